/** The design card's pcap-parser iterating a file and counting packets: a baseline for the benchmark. */
import * as fs from 'node:fs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pcapParser = require('pcap-parser') as { parse(input: NodeJS.ReadableStream): NodeJS.EventEmitter };

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: pcap-parser-iterate FILE\n');
  process.exit(2);
}
let packets = 0;
const parser = pcapParser.parse(fs.createReadStream(file));
parser.on('packet', () => {
  packets++;
});
parser.on('end', () => process.stdout.write(`${packets}\n`));
parser.on('error', (err: Error) => {
  process.stderr.write(`pcap-parser: ${err.message}\n`);
  process.exit(1);
});
