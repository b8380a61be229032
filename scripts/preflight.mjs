// Runs before `npm test` and `npm run example` (pretest/preexample). On an older Node they fail deep inside with
// errors that do not say why (`Map.groupBy is not a function`, ERR_UNKNOWN_FILE_EXTENSION for .ts files), so this
// says it first. Deliberately old-fashioned JavaScript, no imports: it has to run on whatever Node is installed.
var needed = [22, 12];
var have = process.versions.node.split('.').map(Number);
var tooOld = have[0] < needed[0] || (have[0] === needed[0] && have[1] < needed[1]);
if (tooOld) {
  var event = process.env.npm_lifecycle_event || '';
  var script = event.indexOf('pre') === 0 ? event.slice(3) : event || 'test';
  process.stderr.write(
    'hookchain needs Node \u2265 ' +
      needed.join('.') +
      ' (you have v' +
      process.versions.node +
      '); ' +
      'run scripts/run ' +
      script +
      ', which installs it\n',
  );
  process.exit(1);
}
