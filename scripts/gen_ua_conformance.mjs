// Writes tests/data/ua_conformance.json: for every User-Agent in tests/data/user_agents.txt, the
// values Umami 3.1 derives with the same npm packages it uses (detect-browser 5.3.0 for browser and
// OS, ua-parser-js 2.x for the device type, isbot for the bot check). Run once after changing the
// UA list: `node scripts/gen_ua_conformance.mjs`. The Python tests compare Katsuo against it.
import { readFileSync, writeFileSync } from 'node:fs';
import { browserName, detectOS } from 'detect-browser';
import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';

const here = new URL('../tests/data/', import.meta.url);
const version = name =>
  JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url))).version;
const agents = readFileSync(new URL('user_agents.txt', here), 'utf8')
  .split('\n')
  .map(line => line.trim())
  .filter(line => line && !line.startsWith('#'));

const cases = agents.map(ua => ({
  ua,
  browser: browserName(ua) ?? null,
  os: detectOS(ua) ?? null,
  device_type: UAParser(ua).device?.type ?? null,
  bot: isbot(ua),
}));

const table = {
  generated_by: 'scripts/gen_ua_conformance.mjs',
  packages: Object.fromEntries(['detect-browser', 'ua-parser-js', 'isbot'].map(n => [n, version(n)])),
  cases,
};
writeFileSync(new URL('ua_conformance.json', here), JSON.stringify(table, null, 1) + '\n');
console.log(`wrote ${cases.length} cases`);
