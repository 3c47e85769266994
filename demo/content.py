"""The French texts of the demo territory (resolvers/demo.py), modeled on Carcassonne Agglo.

Kept apart from the seeding logic so each stays readable. The places are real communes of
the agglomeration; every person is fictional, so no real official is made to say anything.
Placeholders: {commune}, {prenom} (the asker's first name), {mois} (a month name).
"""

from __future__ import annotations

from decimal import Decimal

SLUG = "carcassonne-agglo"
NAME = "Carcassonne Agglo"
POPULATION = 110_000
REPLY_DEADLINE_DAYS = 15
EMAIL_DOMAIN = "carcassonne-agglo.example"
CITIZEN_EMAIL_DOMAIN = "habitants.example"
ADMIN_EMAIL = f"admin@{EMAIL_DOMAIN}"
PASSWORD = "demo-password-2026"
# The accounts the README lists, one of each role, all with PASSWORD: the admin (ADMIN_EMAIL),
# the first moderator and the president are staff_email() of their names; the citizen is the
# first resident the seed creates, under this name and address.
DEMO_CITIZEN_NAME = "Léa Garcia"
DEMO_CITIZEN_EMAIL = "lea.garcia@habitants.example"

CHARTER = """Charte de la participation citoyenne de Carcassonne Agglo

1. Un espace pour dialoguer. Cette plateforme permet à chaque habitant de l'agglomération d'interroger \
ses élus, de proposer des idées, de répondre aux sondages et de consulter les projets, leurs budgets et \
leurs documents.

2. Le respect de chacun. Les échanges se font dans la courtoisie. Les propos injurieux, diffamatoires, \
discriminatoires, la publicité commerciale et la propagande électorale sont interdits, qu'ils viennent \
des habitants ou des élus.

3. Une réponse sous 15 jours. Les élus s'engagent à répondre publiquement à chaque question dans un délai \
de 15 jours. Les retards sont visibles de tous.

4. Des idées suivies. Chaque idée reçoit un statut (à l'étude, retenue, en cours, réalisée ou non retenue) \
accompagné d'une explication.

5. Un vote secret. Personne, pas même les administrateurs, ne peut savoir ce qu'un habitant a voté : \
seule sa participation est enregistrée, pour qu'il ne vote qu'une fois.

6. Une modération indépendante. Les modérateurs appliquent cette charte à tous. Un contenu masqué l'est \
avec un motif, communiqué à son auteur.

7. Vos données vous appartiennent. Vous pouvez à tout moment supprimer votre compte ; vos contributions \
restent alors publiées sans votre nom."""

# Communes of the agglomeration (real places).
COMMUNES = (
    "Carcassonne", "Trèbes", "Berriac", "Pennautier", "Villemoustaussou", "Conques-sur-Orbiel",
    "Cazilhac", "Palaja", "Pezens", "Villedubert", "Couffoulens", "Montolieu", "Leuc", "Lavalette",
    "Arzens", "Alzonne", "Capendu", "Douzens", "Villalier", "Villegailhenc", "Preixan",
    "Rouffiac-d'Aude", "Cavanac", "Fontiès-d'Aude", "Marseillette", "Barbaira", "Floure",
    "Caux-et-Sauzens", "Montirat", "Verzeille",
)

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)

# (key, display name, mandate). The key names the themes the official answers for.
OFFICIALS = (
    ("president", "Henri Vidal", "Président de Carcassonne Agglo"),
    ("finances", "Alain Rouquet", "Premier vice-président chargé des finances et du budget"),
    ("mobilites", "Sylvie Marty", "Vice-présidente chargée des mobilités et des transports"),
    ("scot", "Jérôme Fabre", "Vice-président chargé de l'aménagement du territoire et du SCoT"),
    ("eau", "Nathalie Bonnafous", "Vice-présidente chargée de l'eau, de l'assainissement et de la GEMAPI"),
    ("numerique", "Karim Benali", "Vice-président chargé du numérique et du Très-Haut-Débit"),
    ("enfance", "Claire Estève", "Vice-présidente chargée de la petite enfance et des accueils de loisirs"),
    ("dechets", "Patrick Sabatier", "Vice-président chargé de la collecte et de la valorisation des déchets"),
    ("economie", "Isabelle Cathala", "Vice-présidente chargée du développement économique et du tourisme"),
    ("energie", "Thomas Py", "Vice-président chargé de la transition énergétique"),
    ("participation", "Laure Mestre", "Conseillère communautaire déléguée à la démocratie participative"),
)

ADMIN_NAME = "Équipe Parvis de Carcassonne Agglo"
MODERATORS = ("Camille Roux", "Mathieu Sicard")

FIRST_NAMES = (
    "Julie", "Thomas", "Camille", "Nicolas", "Léa", "Maxime", "Manon", "Antoine", "Chloé", "Hugo",
    "Emma", "Lucas", "Inès", "Louis", "Sarah", "Gabriel", "Laura", "Arthur", "Marine", "Jules",
    "Pauline", "Romain", "Anaïs", "Kevin", "Élodie", "Julien", "Céline", "Sébastien", "Nathalie",
    "Christophe", "Sandrine", "Stéphane", "Isabelle", "Philippe", "Sophie", "Laurent", "Valérie",
    "Pierre", "Martine", "Jean", "Monique", "Michel", "Françoise", "Alain", "Josiane", "Bernard",
    "Yasmine", "Karim", "Nadia", "Mehdi", "Fatima", "Rachid", "Lina", "Adam", "Jade", "Nathan",
    "Mathilde", "Baptiste", "Océane", "Florian", "Agnès", "Serge", "Brigitte", "Gérard", "Odile",
    "Rémi", "Margaux", "Quentin", "Lucie", "Damien", "Carla", "Enzo", "Alicia", "Mathis", "Noémie",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Durand", "Moreau", "Laurent", "Simon", "Michel", "Garcia",
    "Martinez", "Lopez", "Sanchez", "Fernandez", "Perez", "Gonzalez", "Roques", "Cros", "Mas",
    "Bousquet", "Rouanet", "Cazals", "Alibert", "Pujol", "Bonnet", "Fournier", "Girard", "Mercier",
    "Blanc", "Guerin", "Boyer", "Garnier", "Chevalier", "Gauthier", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Masson", "Marchand", "Duval", "Denis",
    "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud",
    "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Roche", "Renard",
    "Caron", "Fabre", "Aubert", "Renaud", "Dumas", "Lacroix", "Olivier", "Rey", "Rolland",
    "Benaïssa", "Haddad", "Nguyen", "Ferrer", "Serres", "Fabregat", "Escande", "Bonnafous",
    "Authié", "Cathary", "Maury", "Bories", "Sabatier", "Castel", "Pech", "Azéma",
)

# Questions: (theme, title, body). {commune} is the asker's commune.
QUESTIONS = (
    ("mobilites", "Bus le dimanche à {commune}",
     "Le dimanche, il n'y a quasiment aucun bus entre {commune} et le centre de Carcassonne. "
     "Est-il prévu de renforcer la desserte, au moins l'après-midi ?"),
    ("mobilites", "Une piste cyclable entre {commune} et Carcassonne ?",
     "Beaucoup d'entre nous iraient travailler à vélo si la départementale n'était pas aussi "
     "dangereuse. Une piste sécurisée est-elle prévue dans le plan vélo ?"),
    ("mobilites", "Abri vélo sécurisé à la gare de Carcassonne",
     "Je prends le train tous les jours et je me suis déjà fait voler deux vélos. Un abri fermé "
     "par badge est-il envisagé ?"),
    ("mobilites", "Transport à la demande pour les aînés de {commune}",
     "Ma mère n'a plus le permis et le bus ne passe que deux fois par jour. Comment fonctionne le "
     "transport à la demande et faut-il réserver la veille ?"),
    ("eau", "Compteurs d'eau intelligents : quand à {commune} ?",
     "Le président a annoncé des compteurs capables de repérer les fuites. Quand seront-ils posés "
     "à {commune}, et la pose sera-t-elle facturée aux abonnés ?"),
    ("eau", "Fuite d'eau non réparée à {commune}",
     "Une fuite coule sur le trottoir de la grand-rue de {commune} depuis trois semaines. Elle a "
     "été signalée au service de l'eau mais rien ne bouge."),
    ("eau", "Qualité de l'eau du robinet à {commune}",
     "L'eau a un goût de chlore prononcé depuis un mois. Les analyses sont-elles publiées quelque "
     "part ?"),
    ("eau", "Pourquoi la taxe GEMAPI sur ma taxe foncière ?",
     "Je découvre une ligne GEMAPI sur mon avis de taxe foncière. À quoi sert-elle exactement, "
     "après les inondations de 2018 ?"),
    ("dechets", "Horaires de la déchetterie de {commune}",
     "La déchetterie ferme à 17 h, bien avant que la plupart des actifs ne rentrent du travail. "
     "Peut-on envisager une ouverture plus tardive en semaine ?"),
    ("dechets", "Collecte des encombrants à {commune}",
     "Comment obtenir un rendez-vous pour l'enlèvement des encombrants ? Le numéro indiqué sur le "
     "site ne répond pas."),
    ("dechets", "Bacs jaunes qui débordent à {commune}",
     "Depuis le changement de calendrier, les bacs jaunes débordent avant chaque collecte. "
     "Peut-on revenir à un passage par semaine ?"),
    ("dechets", "Composteurs collectifs dans les résidences",
     "Notre résidence de {commune} voudrait installer un composteur partagé. L'Agglo fournit-elle "
     "le matériel et une formation ?"),
    ("numerique", "Fibre optique : quand à {commune} ?",
     "Nous sommes toujours en ADSL à 2 Mb/s à {commune}. Quel est le calendrier du Très-Haut-Débit "
     "pour notre commune ?"),
    ("numerique", "Zone blanche entre {commune} et Montolieu",
     "Il n'y a aucun réseau mobile sur plusieurs kilomètres. Est-ce que l'Agglo intervient auprès "
     "des opérateurs ?"),
    ("numerique", "Le Pôle Numérique est-il ouvert aux associations ?",
     "Notre association de {commune} cherche une salle équipée pour des ateliers. Peut-on réserver "
     "au Pôle Numérique, et à quel tarif ?"),
    ("numerique", "Ateliers numériques pour les seniors",
     "Les démarches administratives sont désormais toutes en ligne. Existe-t-il des ateliers "
     "d'initiation près de {commune} ?"),
    ("enfance", "Places en crèche à {commune}",
     "Nous attendons une place en crèche depuis dix mois. Combien de familles sont sur liste "
     "d'attente et des places sont-elles prévues ?"),
    ("enfance", "Accueils de loisirs pendant les vacances",
     "Les inscriptions à l'accueil de loisirs de {commune} ont été complètes en une heure. Est-il "
     "possible d'ouvrir plus de places l'été ?"),
    ("enfance", "Tarifs des accueils de loisirs selon le quotient familial",
     "Comment sont calculés les tarifs ? Nous avons eu une forte hausse sans explication."),
    ("scot", "Révision du SCoT : les terres agricoles de {commune} protégées ?",
     "Des parcelles viticoles autour de {commune} apparaissent en zone à urbaniser dans les "
     "documents. Seront-elles préservées dans le futur SCoT ?"),
    ("scot", "Où consulter les documents du SCoT ?",
     "J'aimerais lire le diagnostic et le projet d'aménagement avant la réunion publique. Où les "
     "trouver en entier ?"),
    ("scot", "Zone d'activités prévue près de {commune}",
     "On parle d'une nouvelle zone commerciale à l'entrée de {commune}. Qu'en est-il vraiment et "
     "les habitants seront-ils consultés ?"),
    ("scot", "Réunion publique sur le SCoT à {commune}",
     "Une réunion publique sur la révision du SCoT est-elle prévue dans notre secteur ? Toutes les "
     "dates annoncées sont à Carcassonne."),
    ("economie", "Navettes vers la Cité pendant l'été",
     "Le parking de la Cité est saturé tout l'été. Des navettes depuis les parkings relais "
     "sont-elles prévues cette année ?"),
    ("economie", "Aides aux commerces du centre-bourg de {commune}",
     "Trois commerces ont fermé cette année à {commune}. Quelles aides l'Agglo propose-t-elle pour "
     "les reprises ?"),
    ("economie", "Espace de coworking : tarifs et horaires",
     "Je suis indépendant et je cherche un poste de travail quelques jours par semaine. Quels sont "
     "les tarifs de l'espace de coworking ?"),
    ("economie", "À quoi sert la taxe de séjour ?",
     "Nous tenons un gîte à {commune}. À quoi est employée la taxe de séjour que nous collectons ?"),
    ("energie", "Rénovation énergétique : quelles aides pour ma maison ?",
     "Notre maison de {commune} est une passoire thermique. Quelles aides existent et qui peut nous "
     "accompagner dans le dossier ?"),
    ("energie", "Éclairage public éteint la nuit à {commune}",
     "L'éclairage est coupé de minuit à 5 h depuis peu. Est-ce une décision de l'Agglo et quelles "
     "économies cela représente-t-il ?"),
    ("energie", "Panneaux solaires sur les bâtiments de l'Agglo",
     "Les toits des gymnases et des centres techniques pourraient produire de l'électricité. Un "
     "programme est-il prévu ?"),
    ("finances", "Budget de l'Agglo : combien pour les transports ?",
     "Quelle part du budget communautaire va aux transports en commun, et comment évolue-t-elle ?"),
    ("finances", "Dette de l'Agglo",
     "Quel est le niveau d'endettement de l'Agglo et combien coûtent les intérêts chaque année ?"),
    ("participation", "Y aura-t-il un budget participatif ?",
     "D'autres collectivités laissent les habitants choisir des projets à financer. Est-ce prévu "
     "chez nous ?"),
    ("participation", "Comment les idées sont-elles étudiées ?",
     "J'ai proposé une idée il y a un mois. Qui l'étudie et comment est-il décidé de la retenir ?"),
    ("president", "Réunion publique avec le président à {commune}",
     "Serait-il possible d'organiser une réunion publique à {commune} pour échanger directement "
     "avec le président ?"),
    ("president", "Les petites communes sont-elles oubliées ?",
     "On a le sentiment que tout se décide pour Carcassonne. Quelle place pour les villages comme "
     "{commune} dans les projets de l'Agglo ?"),
)

# Replies per theme. {prenom} is the asker's first name, {commune} the question's commune.
REPLIES = {
    "mobilites": (
        "Bonjour {prenom}, merci pour votre question. La desserte de {commune} fait partie de la "
        "refonte du réseau Agglo'Bus prévue à la rentrée : une ligne renforcée le week-end et une "
        "navette à la demande complètent l'offre. Le détail sera publié ici même avant l'été.",
        "Bonjour {prenom}. Le plan vélo prévoit trois itinéraires prioritaires, dont un qui "
        "desservira {commune}. Les études sont en cours et les tracés seront soumis à votre avis "
        "par un sondage sur cette plateforme.",
        "Bonjour {prenom}, le transport à la demande fonctionne sur réservation jusqu'à 17 h la "
        "veille, par téléphone ou en ligne. Il dessert {commune} du lundi au samedi.",
    ),
    "eau": (
        "Bonjour {prenom}. Le déploiement des compteurs à télérelève se fait commune par commune ; "
        "{commune} est programmée dans la prochaine tranche. La pose est gratuite pour les abonnés.",
        "Bonjour {prenom}, merci du signalement. Une équipe du service de l'eau est intervenue et "
        "la canalisation a été remplacée. N'hésitez pas à nous signaler toute nouvelle fuite.",
        "Bonjour {prenom}. Les analyses de l'Agence régionale de santé sont conformes et publiées "
        "en mairie. Le goût de chlore vient d'un renforcement temporaire de la désinfection.",
    ),
    "dechets": (
        "Bonjour {prenom}. À partir du mois prochain, la déchetterie de {commune} restera ouverte "
        "jusqu'à 19 h le mardi et le jeudi, à titre d'essai pendant six mois.",
        "Bonjour {prenom}, la collecte des encombrants se fait sur rendez-vous, désormais "
        "réservable en ligne. Un passage est organisé chaque mois à {commune}.",
        "Bonjour {prenom}. L'Agglo fournit gratuitement composteurs et formation aux résidences "
        "qui en font la demande ; un guide composteur viendra à {commune} pour l'installation.",
    ),
    "numerique": (
        "Bonjour {prenom}. Les travaux de fibre à {commune} sont programmés ; les premiers "
        "logements seront raccordables d'ici la fin de l'année. Vous pouvez tester votre "
        "éligibilité sur le site de l'opérateur.",
        "Bonjour {prenom}, le Pôle Numérique accueille gratuitement les associations du "
        "territoire sur réservation. Des ateliers pour les seniors y ont lieu chaque mercredi.",
    ),
    "enfance": (
        "Bonjour {prenom}. Une nouvelle crèche de 40 places ouvrira l'an prochain et 60 places "
        "supplémentaires seront proposées dans les accueils de loisirs dès cet été.",
        "Bonjour {prenom}, les tarifs suivent le quotient familial de la CAF ; la grille complète "
        "est publiée et le service enfance peut vous recevoir pour vérifier votre dossier.",
    ),
    "scot": (
        "Bonjour {prenom}. Le projet de SCoT prévoit de réduire de moitié la consommation de terres "
        "agricoles ; les zones viticoles de {commune} sont classées à préserver. Tous les documents "
        "sont en ligne dans le projet « Révision du SCoT ».",
        "Bonjour {prenom}, une réunion publique aura lieu dans votre secteur le mois prochain. La "
        "date sera publiée dans le fil d'actualités.",
    ),
    "economie": (
        "Bonjour {prenom}. Des navettes gratuites relieront les parkings relais à la Cité de juin "
        "à septembre, toutes les 15 minutes.",
        "Bonjour {prenom}, l'Agglo propose une aide à l'installation des commerces en centre-bourg, "
        "jusqu'à 10 000 €. Le service développement économique peut vous accompagner.",
    ),
    "energie": (
        "Bonjour {prenom}. Le guichet rénovation de l'Agglo vous accompagne gratuitement : visite "
        "d'un conseiller, plan de travaux et montage des dossiers d'aides.",
        "Bonjour {prenom}, l'extinction nocturne a été décidée avec les communes volontaires ; elle "
        "réduit d'environ 40 % la facture d'éclairage public.",
    ),
    "finances": (
        "Bonjour {prenom}. Les transports représentent environ 18 % du budget de fonctionnement ; "
        "le budget détaillé est consultable dans le projet « Budget 2026 ».",
    ),
    "participation": (
        "Bonjour {prenom}. Chaque idée est étudiée par l'élu référent du thème, qui lui donne un "
        "statut motivé. Les idées les plus soutenues sont présentées en conférence des maires.",
        "Bonjour {prenom}, un budget participatif sera expérimenté l'an prochain : les habitants "
        "vérifiés pourront choisir les projets financés.",
    ),
    "president": (
        "Bonjour {prenom}. Chaque commune compte, quelle que soit sa taille : les projets de l'Agglo "
        "concernent tout le territoire. Je viendrai à {commune} à l'automne pour une réunion publique.",
    ),
}

CLOSED_REASONS = (
    "Cette question relève de la compétence de votre mairie et non de l'Agglo : nous vous invitons "
    "à la contacter directement.",
    "Question en double : une réponse a déjà été apportée à la même question cette semaine.",
)

# Ideas: (theme, title, body).
IDEAS = (
    ("mobilites", "Une piste cyclable entre {commune} et Carcassonne",
     "Une voie séparée de la circulation permettrait aux enfants d'aller au collège à vélo en "
     "toute sécurité."),
    ("mobilites", "Des arceaux vélo devant les commerces de {commune}",
     "Il suffit de quelques arceaux pour que l'on vienne faire ses courses à vélo."),
    ("mobilites", "Un bus de nuit le week-end",
     "Pour rentrer de Carcassonne le vendredi et le samedi soir sans prendre la voiture."),
    ("mobilites", "Covoiturage domicile-travail organisé par l'Agglo",
     "Une application et des places réservées sur les parkings relais pour les covoitureurs."),
    ("eau", "Des récupérateurs d'eau de pluie à prix réduit",
     "Une commande groupée par l'Agglo ferait baisser les prix et économiserait l'eau potable."),
    ("eau", "Des fontaines à eau dans les parcs de {commune}",
     "L'été, les familles n'ont nulle part où remplir les gourdes."),
    ("eau", "Signaler une fuite d'eau depuis son téléphone",
     "Une photo géolocalisée suffirait pour que le service intervienne plus vite."),
    ("dechets", "Une ressourcerie pour donner une seconde vie aux objets",
     "Meubles et électroménager partent à la benne alors qu'ils pourraient être réparés."),
    ("dechets", "Des composteurs partagés au pied des immeubles de {commune}",
     "Un tiers de nos poubelles pourrait être composté."),
    ("numerique", "Wifi public gratuit dans les médiathèques",
     "Pour les étudiants et ceux qui n'ont pas de connexion à la maison."),
    ("numerique", "Des ateliers numériques pour les seniors à {commune}",
     "Des bénévoles sont prêts à animer des ateliers si on leur prête une salle."),
    ("numerique", "Un espace de coworking à {commune}",
     "Pour travailler près de chez soi sans faire la route jusqu'à Carcassonne."),
    ("enfance", "Un accueil de loisirs le mercredi à {commune}",
     "Les parents qui travaillent n'ont aucune solution le mercredi dans notre secteur."),
    ("enfance", "Une aire de jeux inclusive à {commune}",
     "Des jeux accessibles aux enfants en fauteuil, comme à Narbonne."),
    ("enfance", "Un conseil des jeunes de l'Agglo",
     "Donner la parole aux 15-25 ans sur les projets qui les concernent."),
    ("scot", "Préserver les terres viticoles dans le SCoT",
     "Les vignes autour des villages font notre paysage et notre économie : qu'elles restent "
     "inconstructibles."),
    ("scot", "Un parcours sportif le long du Canal du Midi",
     "Des agrès et un balisage entre Carcassonne et Trèbes."),
    ("scot", "Sentiers de randonnée balisés vers la Montagne Noire",
     "Relier les villages par des chemins balisés et une carte commune."),
    ("economie", "Un marché de producteurs le samedi à {commune}",
     "Les producteurs locaux cherchent des débouchés et les habitants des produits frais."),
    ("economie", "Une navette électrique vers la Cité",
     "Moins de voitures au pied des remparts, plus de place pour les piétons."),
    ("energie", "Éteindre l'éclairage public de 1 h à 5 h",
     "Des économies d'énergie et un ciel étoilé, sans gêne pour personne."),
    ("energie", "Des panneaux solaires sur les toits des gymnases",
     "Produire localement l'électricité des équipements communautaires."),
    ("energie", "Planter des arbres dans les cours d'école de {commune}",
     "Les cours en bitume dépassent 50 °C l'été ; des arbres les rendraient vivables."),
    ("participation", "Des boîtes à livres dans chaque commune",
     "Un échange de livres libre et gratuit, entretenu par des bénévoles."),
    ("participation", "Un jardin partagé à {commune}",
     "Un terrain communal inutilisé pourrait devenir un potager ouvert à tous."),
)

STATUS_NOTES = {
    "UNDER_REVIEW": (
        "Merci pour cette idée : elle est à l'étude par le service concerné, nous revenons vers "
        "vous rapidement.",
        "Idée transmise à la commission thématique qui l'examinera lors de sa prochaine séance.",
    ),
    "ACCEPTED": (
        "Idée retenue ! Elle sera inscrite au budget de l'an prochain.",
        "Retenue par la conférence des maires : les études démarrent ce trimestre.",
    ),
    "IN_PROGRESS": (
        "Les travaux ont commencé ; vous pouvez suivre leur avancement dans le projet associé.",
        "Mise en œuvre en cours avec les communes volontaires.",
    ),
    "REALIZED": (
        "Réalisée en {mois} : merci à toutes celles et ceux qui ont soutenu cette idée. "
        "L'équipement est ouvert au public.",
        "C'est fait ! Inauguration en {mois}, en présence des habitants qui l'avaient proposée.",
    ),
    "REJECTED": (
        "Cette idée ne relève pas des compétences de l'Agglo ; nous l'avons transmise à la commune.",
        "Non retenue : le coût d'entretien serait trop élevé au regard de l'usage attendu.",
        "Un dispositif équivalent existe déjà : consultez le site de l'Agglo.",
    ),
}

# Projects: (key, creator theme, title, description, budget or None, documents, days ago).
# Documents: (title, url, kind).
_DOCS = "https://www.carcassonne-agglo.example/documents"
PROJECTS = (
    ("scot", "scot", "Révision du SCoT (Schéma de cohérence territoriale)",
     "Le Schéma de cohérence territoriale fixe pour vingt ans les grandes orientations de "
     "l'aménagement des communes de l'agglomération : habitat, zones d'activités, mobilités, "
     "protection des terres agricoles et des paysages. Sa révision est soumise aux habitants : "
     "documents, sondages et échanges d'idées.",
     Decimal("450000.00"),
     (("Diagnostic territorial", f"{_DOCS}/scot/diagnostic-territorial.pdf", "REPORT"),
      ("Projet d'aménagement et de développement durables (PADD)", f"{_DOCS}/scot/padd.pdf", "DOCUMENT"),
      ("Carte des espaces agricoles et naturels à préserver", f"{_DOCS}/scot/carte-trame-verte.pdf", "MAP"),
      ("Budget de la révision", f"{_DOCS}/scot/budget-revision.pdf", "BUDGET")),
     250),
    ("velo", "mobilites", "Plan vélo : trois itinéraires cyclables",
     "Trois itinéraires cyclables sécurisés relieront Carcassonne à Trèbes, Pennautier et "
     "Villemoustaussou, avec des stationnements vélo dans les gares et les centres-bourgs.",
     Decimal("3200000.00"),
     (("Tracés proposés", f"{_DOCS}/velo/traces.pdf", "MAP"),
      ("Plan de financement", f"{_DOCS}/velo/financement.pdf", "BUDGET")),
     220),
    ("eau", "eau", "Compteurs d'eau intelligents contre les fuites",
     "Des compteurs à télérelève repèrent les consommations anormales et alertent l'abonné en cas "
     "de fuite. Déploiement progressif sur l'ensemble du réseau.",
     Decimal("1850000.00"),
     (("Calendrier de déploiement par commune", f"{_DOCS}/eau/calendrier.pdf", "DOCUMENT"),
      ("Bilan de la première tranche", f"{_DOCS}/eau/bilan-tranche-1.pdf", "REPORT")),
     240),
    ("pole", "numerique", "Pôle Numérique et maison de l'innovation",
     "Un lieu pour les entreprises du numérique, un espace de coworking et des ateliers ouverts à "
     "tous les habitants.",
     Decimal("2400000.00"),
     (("Plans du bâtiment", f"{_DOCS}/pole-numerique/plans.pdf", "MAP"),
      ("Budget d'investissement", f"{_DOCS}/pole-numerique/budget.pdf", "BUDGET")),
     200),
    ("thd", "numerique", "Très-Haut-Débit : la fibre dans toutes les communes",
     "Le déploiement de la fibre optique dans toutes les communes de l'agglomération, et de "
     "l'Ultra-Haut-Débit pour les zones d'activités.",
     Decimal("5600000.00"),
     (("Carte de déploiement", f"{_DOCS}/thd/carte.pdf", "MAP"),),
     180),
    ("jardins", "participation", "Jardins partagés",
     "Des terrains communautaires confiés à des associations d'habitants pour en faire des "
     "potagers ouverts à tous.",
     Decimal("120000.00"),
     (("Charte des jardins partagés", f"{_DOCS}/jardins/charte.pdf", "DOCUMENT"),),
     150),
    ("renovation", "energie", "Rénovation énergétique des bâtiments communautaires",
     "Isolation, chauffage et panneaux solaires pour les gymnases, crèches et centres techniques.",
     Decimal("980000.00"),
     (("Audit énergétique", f"{_DOCS}/renovation/audit.pdf", "REPORT"),
      ("Plan pluriannuel d'investissement", f"{_DOCS}/renovation/ppi.pdf", "BUDGET")),
     120),
    ("loisirs", "enfance", "Nouvel accueil de loisirs intercommunal",
     "Un accueil de loisirs de 120 places pour les mercredis et les vacances scolaires.",
     Decimal("1300000.00"),
     (("Esquisse du projet", f"{_DOCS}/loisirs/esquisse.pdf", "DOCUMENT"),),
     90),
    ("mobilite-plan", "mobilites", "Concertation sur le plan de mobilité",
     "Avant d'écrire le plan de mobilité, l'Agglo recueille vos usages et vos besoins. Le budget "
     "sera fixé à l'issue de la concertation.",
     None,
     (("Questionnaire de concertation", f"{_DOCS}/mobilite/questionnaire.pdf", "DOCUMENT"),),
     40),
)

# Which project an idea of a theme may belong to.
THEME_PROJECTS = {
    "mobilites": "velo", "eau": "eau", "numerique": "pole", "enfance": "loisirs",
    "scot": "scot", "energie": "renovation", "participation": "jardins",
}

# Polls: (key, creator theme, project key, question, options with relative popularity,
#         multiple choice, verified only, results visibility, state, days: created, opens, closes
#         (relative to now; negative is past), share of the eligible members who voted).
POLLS = (
    ("scot-priorite", "scot", "scot", "Révision du SCoT : quelle priorité pour les vingt prochaines années ?",
     (("Protéger les terres agricoles et viticoles", 5), ("Développer les transports en commun", 4),
      ("Construire des logements abordables", 3), ("Créer des zones d'activités", 2)),
     False, False, "LIVE", -200, -200, -170, 0.45),
    ("bus-dimanche", "mobilites", None, "Faut-il faire rouler Agglo'Bus le dimanche après-midi ?",
     (("Oui, sur toutes les lignes", 6), ("Oui, sur les lignes principales seulement", 4), ("Non", 1)),
     False, False, "AFTER_CLOSE", -120, -120, -95, 0.38),
    ("voie-verte", "mobilites", "velo", "Quel tracé pour l'itinéraire cyclable Carcassonne–Trèbes ?",
     (("Le long du Canal du Midi", 7), ("Par la route de Berriac", 3), ("Par les chemins viticoles", 2)),
     False, False, "LIVE", -12, -12, 18, 0.30),
    ("budget-participatif", "participation", None,
     "Budget participatif 2026 : quel projet financer en premier ?",
     (("Des jardins partagés dans chaque commune", 4), ("Des aires de jeux inclusives", 3),
      ("Des abris vélo sécurisés", 3), ("Des fontaines à eau dans les parcs", 2)),
     False, True, "AFTER_CLOSE", -8, -8, 22, 0.50),
    ("pole-services", "numerique", "pole", "Quels services voulez-vous au Pôle Numérique ? (plusieurs choix)",
     (("Ateliers pour les seniors", 5), ("Espace de coworking", 4), ("Fablab et impression 3D", 3),
      ("Aide aux démarches en ligne", 5), ("Formations pour les demandeurs d'emploi", 3)),
     True, False, "LIVE", -20, -20, 10, 0.25),
    ("centre-aquatique", "president", None, "Quel nom pour le futur centre aquatique ?",
     (("L'Aquarèna", 1), ("Les Bains de l'Aude", 1), ("Centre aquatique Pierre-Paul Riquet", 1)),
     False, False, "LIVE", -3, 7, 37, 0.0),
)

# News posts: (author theme or "admin", project key, title, body, days ago, hidden).
NEWS = (
    ("admin", None, "Bienvenue sur la plateforme de participation de Carcassonne Agglo",
     "Depuis votre smartphone ou votre ordinateur, vous pouvez désormais interroger vos élus, proposer "
     "des idées, répondre aux sondages et consulter les projets, leurs budgets et leurs documents. Les "
     "élus s'engagent à vous répondre sous 15 jours. Lisez la charte pour connaître les règles, qui "
     "s'appliquent à tous.", 265, False),
    ("president", "scot", "Révision du SCoT : la concertation est ouverte",
     "La révision du Schéma de cohérence territoriale est l'un des premiers sujets soumis aux habitants : "
     "consultez le diagnostic, répondez au sondage et proposez vos idées. Une vraie co-construction.",
     245, False),
    ("eau", "eau", "Compteurs d'eau intelligents : 4 000 foyers équipés",
     "La première tranche de compteurs à télérelève est posée. Déjà 37 fuites détectées chez des "
     "abonnés, soit l'équivalent de deux piscines olympiques économisées.", 190, False),
    ("scot", "scot", "SCoT : compte rendu de la réunion publique de Trèbes",
     "Plus de 150 habitants ont participé à la réunion publique. Les principales demandes : préserver "
     "les vignes, mieux desservir les villages, limiter les zones commerciales.", 175, False),
    ("numerique", "pole", "Le Pôle Numérique ouvre ses portes",
     "Entreprises, associations et habitants sont les bienvenus : coworking, salles équipées et ateliers "
     "gratuits chaque semaine.", 150, False),
    ("numerique", "thd", "Très-Haut-Débit : 12 nouvelles communes raccordables",
     "Les habitants de 12 communes supplémentaires peuvent désormais souscrire un abonnement fibre.",
     130, False),
    ("participation", "jardins", "Vos idées réalisées : le premier jardin partagé inauguré",
     "Proposé sur la plateforme et soutenu par plus de cent habitants, le jardin partagé de Berriac a "
     "été inauguré samedi. Merci à tous !", 100, False),
    ("finances", None, "Budget 2026 : les grandes orientations",
     "Priorité aux mobilités, à l'eau et à la petite enfance, sans hausse des taux d'imposition. Le "
     "détail est consultable dans les projets.", 75, False),
    ("finances", None, "Bilan du mandat : votez pour la continuité !",
     "À l'approche des élections, rappelons tout ce que notre équipe a accompli. Le 15 mars, votez "
     "pour la continuité !", 60, True),
    ("dechets", None, "Nouveaux horaires des déchetteries",
     "À titre d'essai, les déchetteries ouvrent jusqu'à 19 h le mardi et le jeudi.", 45, False),
    ("enfance", "loisirs", "Accueils de loisirs : inscriptions pour l'été",
     "Les inscriptions ouvrent lundi ; 60 places supplémentaires cette année.", 25, False),
    ("economie", None, "Saison touristique : navettes gratuites vers la Cité",
     "De juin à septembre, des navettes relient les parkings relais à la Cité toutes les 15 minutes.",
     10, False),
    ("mobilites", "mobilite-plan", "Plan de mobilité : donnez votre avis",
     "Répondez au questionnaire et au sondage sur l'itinéraire cyclable Carcassonne–Trèbes.", 4, False),
)

COMMENTS = {
    "Question": (
        "Même problème chez nous à {commune}.",
        "Je rejoins cette question, merci de l'avoir posée.",
        "Une réponse rapide serait appréciée, la situation dure depuis des mois.",
        "Merci pour la réponse, c'est clair.",
        "J'ai eu le même souci, le service a été réactif une fois prévenu.",
        "Et pour les communes voisines, c'est pareil ?",
    ),
    "Idea": (
        "Excellente idée, je soutiens !",
        "Il faudrait penser aussi aux personnes à mobilité réduite.",
        "Pourquoi pas, mais qui financera l'entretien ?",
        "À {commune} on l'a fait l'an dernier, ça marche très bien.",
        "Je suis prête à donner un coup de main bénévolement.",
        "Bonne idée, à condition de consulter les riverains.",
    ),
    "Project": (
        "Le budget me semble élevé, peut-on voir le détail ?",
        "Quand commencent les travaux ?",
        "Merci pour la transparence sur les documents.",
        "Est-ce que {commune} est concernée ?",
        "Très bon projet, enfin !",
    ),
    "NewsPost": (
        "Bonne nouvelle !",
        "Enfin ! On attendait ça depuis longtemps.",
        "Et pour les petites communes comme {commune} ?",
        "Merci pour l'information.",
    ),
}
OFFICIAL_COMMENTS = (
    "Merci pour vos retours, nous en tenons compte.",
    "Les documents détaillés sont en ligne dans le projet.",
    "Une réunion publique est prévue pour en parler : la date sera publiée dans le fil.",
)
INSULT = "Bande d'incapables, vous vous moquez de nous. Il faudrait tous vous mettre dehors !"
ADVERTISING = "Pour tous vos travaux de rénovation, appelez Rénov'Aude au 06 00 00 00 00, devis gratuit !"

# The SCoT revision as a consultation in four phases (issue 14). Phases: (kind, title,
# description, starts days ago, ends days ago; negative: ahead).
CONSULTATION_TITLE = "Révision du SCoT du Carcassonnais"
CONSULTATION_SUMMARY = (
    "Le Schéma de cohérence territoriale fixe pour vingt ans l'aménagement des 82 communes : "
    "habitat, zones d'activités, mobilités, terres agricoles et paysages. Sa révision se construit "
    "avec les habitants, en quatre temps : la présentation du projet de plan, un sondage, un appel "
    "à idées, puis la restitution de ce qui a été retenu et pourquoi."
)
CONSULTATION_PHASES = (
    ("INFORMATION", "Découvrir le projet de SCoT",
     "Le projet de plan arrêté par le conseil communautaire, ses cartes et son diagnostic. Posez vos "
     "questions aux élus en charge de l'aménagement.", 120, 75),
    ("SURVEY", "Sondage : vos priorités pour 2045",
     "Un sondage sur l'habitat, les mobilités et la protection des terres agricoles.", 75, 45),
    ("DEBATE", "Appel à idées",
     "Proposez vos idées pour le territoire de demain : elles seront étudiées par la commission "
     "aménagement et chacune recevra une réponse.", 45, 15),
    ("RESTITUTION", "Restitution",
     "Ce que la révision retient de vos contributions, et pourquoi.", 15, -45),
)
# The draft plan, uploaded as a PDF file to the information phase: (title, file name, kind),
# then the text of its one page.
CONSULTATION_DOCUMENT = ("Projet de SCoT arrêté (version provisoire)", "projet-scot-arrete.pdf", "DOCUMENT")
CONSULTATION_DOCUMENT_LINES = (
    "Schéma de cohérence territoriale du Carcassonnais - projet arrêté",
    "",
    "1. Diagnostic : 82 communes, 110 000 habitants, une croissance de 0,8 % par an.",
    "2. Habitat : 9 000 logements d'ici 2045, d'abord dans les friches et les centres-bourgs.",
    "3. Mobilités : une voie verte le long du canal du Midi, des bus entre les bourgs.",
    "4. Terres agricoles : les plaines irrigables de l'Aude sont protégées.",
    "5. Économie : pas de nouvelle zone commerciale en périphérie.",
    "",
    "Document provisoire soumis à la concertation ; il évoluera avec vos contributions.",
)
# The survey phase's survey: (title, description, questions). A question is (kind, prompt,
# options, condition): the condition (question position, option position) shows it only
# when that earlier answer includes that option.
CONSULTATION_SURVEY_TITLE = "Vos priorités pour le Carcassonnais en 2045"
CONSULTATION_SURVEY_DESCRIPTION = (
    "Cinq questions, trois minutes : vos réponses sont secrètes et comptées par lots, comme un vote."
)
CONSULTATION_SURVEY_QUESTIONS: tuple[tuple[str, str, tuple[str, ...], tuple[int, int] | None], ...] = (
    ("SINGLE_CHOICE", "Quelle priorité le SCoT doit-il se donner d'abord ?",
     ("Le logement", "Les mobilités", "Les terres agricoles", "L'emploi"), None),
    ("SINGLE_CHOICE", "Prenez-vous la voiture tous les jours ?", ("Oui", "Non"), None),
    ("MULTIPLE_CHOICE", "Qu'est-ce qui vous la ferait laisser au garage ?",
     ("Des bus plus fréquents", "Des pistes cyclables sûres", "Le covoiturage", "Le télétravail"), (1, 0)),
    ("SCALE", "Êtes-vous attaché(e) aux paysages agricoles de la plaine ?", (), None),
    ("LONG_TEXT", "Un mot pour les élus ?", (), None),
)
CONSULTATION_SURVEY_WORDS = (
    "Pensez aux villages de la Montagne Noire.",
    "Protégez les vignes autour de la Cité.",
    "Plus de trains vers Toulouse, s'il vous plaît.",
    "Des logements pour les jeunes dans les bourgs.",
)
# How many residents answered it (at scale 1).
CONSULTATION_SURVEY_ANSWERS = 48
CONSULTATION_IDEAS = (
    ("Des liaisons cyclables entre les villages",
     "Relier chaque village à la voie verte du canal par un itinéraire cyclable sûr, avant toute "
     "nouvelle zone d'activités."),
    ("Zéro artificialisation des terres de plaine",
     "Réserver les extensions urbaines aux friches et aux dents creuses ; protéger les terres "
     "irrigables de la plaine de l'Aude."),
    ("Des commerces de proximité dans les bourgs",
     "Limiter les nouvelles surfaces commerciales en périphérie et aider les commerces des centres-bourgs."),
    ("Un réseau de bus à la demande le week-end",
     "Les villages de la Montagne Noire n'ont aucun transport le dimanche : un service à la demande."),
)
# Which ideas (by index) the outcome answers.
CONSULTATION_ANSWERED = (0, 1)
CONSULTATION_OUTCOME = (
    "La commission aménagement retient deux propositions de l'appel à idées. Les liaisons cyclables "
    "entre villages entrent dans le document d'orientation et d'objectifs : chaque nouvelle zone "
    "d'activités devra être desservie à vélo. L'objectif de zéro artificialisation des terres "
    "irrigables de la plaine est inscrit, avec priorité aux friches. Les autres idées sont transmises "
    "aux plans de mobilité et de commerce, qui relèvent d'autres documents."
)
