/** `oracle-call <command>`: the project's command line. */
import { generateOracleKeyPair } from '../protocol/index.ts';

const USAGE = `Usage: oracle-call <command>

Commands:
  keygen   print a new oracle key pair as JSON:
           privateKey (64 hex, for the agent's ORACLE_PRIVATE_KEY) and
           publicKey (base58btc, for the DID document and the backend's ORACLE_PUBLIC_KEY)
  help     print this text`;

export async function main(args: readonly string[]): Promise<number> {
  const [command] = args;
  switch (command) {
    case 'keygen':
      process.stdout.write(`${JSON.stringify(generateOracleKeyPair(), null, 2)}\n`);
      return 0;
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
