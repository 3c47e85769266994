// PostGraphile 4 (simplify inflector) on the Parvis database: the peer of bench/home.py.
//   node bench/peer/serve.js --port P --database postgres://... [--pool N] [--jwt-secret S]
// Exposes the public schema (read only: no mutations) with peer.sql's functions, answers
// /healthz for the bench harness, and reads a signed-in viewer from a JWT, as a PostGraphile
// deployment would.
const http = require("http");
const { postgraphile } = require("postgraphile");
const PgSimplifyInflectorPlugin = require("@graphile-contrib/pg-simplify-inflector");
const { Pool } = require("pg");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const port = Number(arg("--port", "5678"));
const database = arg("--database", process.env.DATABASE_URL);
const pool = new Pool({ connectionString: database, max: Number(arg("--pool", "5")) });

const middleware = postgraphile(pool, ["public"], {
  appendPlugins: [PgSimplifyInflectorPlugin],
  disableDefaultMutations: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  dynamicJson: true,
  disableQueryLog: true,
  watchPg: false,
  graphiql: false,
  enableQueryBatching: false,
  jwtSecret: arg("--jwt-secret", "parvis-bench-peer-secret"),
  jwtVerifyOptions: { algorithms: ["HS256"], audience: "postgraphile" },
  retryOnInitFail: false,
});

http
  .createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"status":"ok"}');
      return;
    }
    middleware(req, res);
  })
  .listen(port, "127.0.0.1");
process.on("SIGINT", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
