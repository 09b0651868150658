/** Defines `<oracle-call>` (once, even when this module is loaded twice) and types it for `createElement`. */
import { OracleCall } from './oracle-call.component.ts';

export { OracleCall };

if (!customElements.get('oracle-call')) customElements.define('oracle-call', OracleCall);

declare global {
  interface HTMLElementTagNameMap {
    'oracle-call': OracleCall;
  }
}
