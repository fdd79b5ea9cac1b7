import { ContribLayout, type ContribPageContext } from './campaign.page';
import { CONTRIB_LANGUAGES, type ContribMessageKey } from './messages/contrib-messages';

/** The steps a clip goes through, as the status page lists them; the other states end the list. */
export const STATUS_STEPS = ['received', 'processing', 'in_review', 'approved', 'released'] as const;

/**
 * The private status page (`/s/<id>#<token>`). The token is in the fragment, so it never reaches the
 * server's logs or another site; the page script reads it and asks the status API with it. Without the
 * script the page says what it is.
 */
export function StatusPage(props: { ctx: ContribPageContext; id: string }) {
  const { ctx, id } = props;
  const { m } = ctx;
  const messages: Partial<Record<ContribMessageKey, string>> = {};
  const all = CONTRIB_LANGUAGES[ctx.lang]!;
  for (const key of Object.keys(all) as ContribMessageKey[]) if (key.startsWith('status.')) messages[key] = all[key];
  return (
    <ContribLayout ctx={ctx} title={m('status.title')}>
      <section id="status" data-id={id} data-config={JSON.stringify({ lang: ctx.lang, messages })} aria-live="polite">
        <p id="status-message">{m('status.loading')}</p>
        <p id="status-description" hidden />
        <p id="status-clip" class="help" hidden />
        <ol class="status-list" id="status-steps" hidden>
          {STATUS_STEPS.map((step) => (
            <li data-step={step}>{m(`status.${step}`)}</li>
          ))}
        </ol>
        <progress id="status-progress" max={100} value={0} hidden aria-labelledby="status-message" />
        <p class="error" id="status-reason" hidden />
        <p class="notice" id="status-withdrawn" tabindex={-1} hidden>
          {m('status.withdrawDone')}
        </p>
        <p class="help" id="status-live" hidden>
          {m('status.live')}
        </p>
      </section>
      <section id="withdraw" class="withdraw" hidden>
        <p class="help" id="withdraw-help">
          {m('status.withdrawHelp')}
        </p>
        <button type="button" id="withdraw-start" class="secondary">
          {m('status.withdraw')}
        </button>
        <div id="withdraw-confirm" role="alertdialog" aria-labelledby="withdraw-ask" hidden>
          <p>
            <strong id="withdraw-ask">{m('status.withdrawAsk')}</strong>
          </p>
          <button type="button" id="withdraw-yes">
            {m('status.withdrawConfirm')}
          </button>{' '}
          <button type="button" id="withdraw-no" class="secondary">
            {m('status.withdrawCancel')}
          </button>
        </div>
      </section>
    </ContribLayout>
  );
}
