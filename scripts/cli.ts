/** `oracle-call <command>`: the project's command line. */
import { parseArgs } from 'node:util';
import { generateOracleKeyPair } from '../protocol/index.ts';
import { DEFAULT_WIDGET_ID, addWidget, widgetUrlTemplate } from './add-widget.ts';

const USAGE = `Usage: oracle-call <command>

Commands:
  keygen   print a new oracle key pair as JSON:
           privateKey (64 hex, for the agent's ORACLE_PRIVATE_KEY) and
           publicKey (base58btc, for the DID document and the backend's ORACLE_PUBLIC_KEY)
  add-widget --homeserver URL --room ROOM_ID --widget-url URL --backend-url URL
             [--call-type audio|video] [--widget-id ID]
           add the call widget to a Matrix room as Element's integration managers do
           (named "Oracle call", in the room's right-hand panel); the access token of a
           room member allowed to send state events comes from MATRIX_ACCESS_TOKEN.
           --widget-url is the widget page (https://…/widget/page/index.html)
  help     print this text`;

async function addWidgetCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      homeserver: { type: 'string' },
      room: { type: 'string' },
      'widget-url': { type: 'string' },
      'backend-url': { type: 'string' },
      'call-type': { type: 'string', default: 'audio' },
      'widget-id': { type: 'string', default: DEFAULT_WIDGET_ID },
    },
  });
  const problems: string[] = [];
  for (const name of ['homeserver', 'room', 'widget-url', 'backend-url'] as const) if (!values[name]) problems.push(`--${name} is required`);
  if (!process.env.MATRIX_ACCESS_TOKEN) problems.push('MATRIX_ACCESS_TOKEN must hold the access token of a room member who may send state events');
  const callType = values['call-type'];
  if (callType !== 'audio' && callType !== 'video') problems.push('--call-type must be audio or video');
  if (values.room && !values.room.startsWith('!')) problems.push('--room must be a room ID (!…), not an alias');
  for (const name of ['homeserver', 'widget-url', 'backend-url'] as const) {
    if (values[name] && !URL.canParse(values[name])) problems.push(`--${name} must be a URL`);
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n\n${USAGE}\n`);
    return 2;
  }
  const setup = {
    homeserverUrl: values.homeserver!,
    accessToken: process.env.MATRIX_ACCESS_TOKEN!,
    roomId: values.room!,
    pageUrl: values['widget-url']!,
    backendUrl: values['backend-url']!,
    callType: callType as 'audio' | 'video',
    widgetId: values['widget-id']!,
  };
  try {
    await addWidget(setup);
  } catch (error) {
    process.stderr.write(`The widget could not be added: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`Added the widget "${setup.widgetId}" to ${setup.roomId}:\n  ${widgetUrlTemplate(setup)}\n`);
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  const [command] = args;
  switch (command) {
    case 'keygen':
      process.stdout.write(`${JSON.stringify(generateOracleKeyPair(), null, 2)}\n`);
      return 0;
    case 'add-widget':
      return addWidgetCommand(args.slice(1));
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`${command === undefined ? 'No command given' : `Unknown command: ${command}`}\n\n${USAGE}\n`);
      return 2;
  }
}
