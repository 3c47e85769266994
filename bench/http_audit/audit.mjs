import { serverAudits } from 'graphql-http';
const url = process.argv[2];
let fails = 0, warns = 0, oks = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') { oks++; continue; }
  if (result.status === 'warn') warns++; else fails++;
  console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}: ${result.reason}`);
}
console.log(`${oks} ok, ${warns} warnings, ${fails} errors`);
