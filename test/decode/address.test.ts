/** Addresses from words to text: dotted quad, and IPv6 in RFC 5952 form (examples from the RFC). */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatAddress, formatIPv4, formatIPv6 } from '../../src/decode/address.js';
import { addressWords } from '../helpers/frames.js';

const v6 = (text: string) => formatIPv6(addressWords(text));

describe('formatAddress', () => {
  it('IPv4 from word 0 (network order, unsigned)', () => {
    assert.equal(formatIPv4(0xc0000201), '192.0.2.1');
    assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
    assert.equal(formatAddress(4, new Uint32Array([0xc6336402, 0, 0, 0])), '198.51.100.2');
    assert.equal(formatAddress(4, [0, 0, 0, 0]), '0.0.0.0');
  });

  it('IPv6: lower case, no leading zeros (RFC 5952 §4.1, §4.3)', () => {
    assert.equal(v6('2001:0DB8:0000:0000:0000:0000:0AB0:0001'), '2001:db8::ab0:1');
    assert.equal(v6('2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'), '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1');
  });

  it('IPv6: the longest run of zeros, the first of equal runs, never a single group (§4.2)', () => {
    assert.equal(v6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(v6('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
    assert.equal(v6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(v6('2001:db8:0:0:0:0:2:1'), '2001:db8::2:1');
  });

  it('IPv6: all zeros, loopback, trailing and leading runs', () => {
    assert.equal(v6('::'), '::');
    assert.equal(v6('::1'), '::1');
    assert.equal(v6('fe80::'), 'fe80::');
    assert.equal(v6('1:0:0:0:0:0:0:0'), '1::');
  });

  it('IPv4-mapped addresses keep the dotted quad (§5)', () => {
    assert.equal(v6('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
    assert.equal(formatAddress(6, addressWords('::ffff:c000:0280')), '::ffff:192.0.2.128');
  });
});
