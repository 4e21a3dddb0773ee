/** Reading a secret: from standard input when piped (or asked for), else from a prompt without echo. */
import { stdin, stderr } from 'node:process';

/**
 * With `prompt` undefined, reads all of standard input (for --password-stdin). `echo` shows what
 * is typed (for a user name).
 */
export async function readSecret(prompt: string | undefined, echo = false): Promise<string> {
  if (prompt === undefined || !stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let secret = '';
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          stderr.write('\n');
          resolve(secret);
          return;
        }
        if (char === '\u0003') process.exit(130);
        secret = char === '\u007f' ? secret.slice(0, -1) : secret + char;
        if (echo && char !== '\u007f') stderr.write(char);
      }
    };
    stdin.on('data', onData);
  });
}
