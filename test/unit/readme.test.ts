import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES } from '../../shared/config';
import { SUBMISSION_STATES, TRANSITIONS } from '../../shared/submissions/submission-states';
import { REPORT_STATES, REPORT_TRANSITIONS } from '../../shared/reports/report-states';

/** The README stays true: its configuration table and state table name what the code has. */
describe('README', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

  test('every configuration variable is documented', () => {
    for (const name of CONFIG_VARIABLES) expect(readme).toContain(`\`${name}\``);
  });

  test('every state and transition is named', () => {
    for (const state of SUBMISSION_STATES) expect(readme).toContain(`\`${state}\``);
    for (const name of Object.keys(TRANSITIONS)) expect(readme).toContain(`\`${name}\``);
  });

  test('every action report state and move is named', () => {
    for (const name of [...REPORT_STATES, ...Object.keys(REPORT_TRANSITIONS)]) expect(readme).toContain(`\`${name}\``);
  });
});
