-- What PostGraphile needs to serve Parvis's home page from the same tables: computed
-- columns for what the tables alone cannot say (a poll open now, the signed-in viewer's
-- vote and supports). PostGraphile finds computed columns only beside their table, so these
-- live in public: created by bench/home.py in the bench's throwaway database, never by the app.

-- The open polls of a territory, newest first (Parvis: polls(status: OPEN)).
CREATE OR REPLACE FUNCTION public.territory_open_polls(t public.territory) RETURNS SETOF public.poll AS $$
  SELECT * FROM public.poll p
  WHERE p.territory_id = t.id AND NOT p.hidden AND p.closed_at IS NULL
    AND p.opens_at <= now() AND p.closes_at > now()
  ORDER BY p.id DESC
$$ LANGUAGE sql STABLE;

-- The viewer is the account named by the verified JWT's account_id claim.
CREATE OR REPLACE FUNCTION public.peer_viewer_account_id() RETURNS integer AS $$
  SELECT nullif(current_setting('jwt.claims.account_id', true), '')::integer
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION public.poll_viewer_has_voted(p public.poll) RETURNS boolean AS $$
  SELECT EXISTS (SELECT 1 FROM public.poll_participation pp JOIN public.member m ON m.id = pp.member_id
                 WHERE pp.poll_id = p.id AND m.account_id = public.peer_viewer_account_id())
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION public.idea_viewer_supports(i public.idea) RETURNS boolean AS $$
  SELECT EXISTS (SELECT 1 FROM public.support s JOIN public.member m ON m.id = s.member_id
                 WHERE s.idea_id = i.id AND m.account_id = public.peer_viewer_account_id())
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION public.current_account() RETURNS public.account AS $$
  SELECT * FROM public.account WHERE id = public.peer_viewer_account_id()
$$ LANGUAGE sql STABLE;
