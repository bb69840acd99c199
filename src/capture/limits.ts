/**
 * Size limits for untrusted capture files. A length field above these is damage, never a reason to buffer more:
 * memory stays bounded whatever the file says.
 */

/**
 * Largest captured length a record may have. Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD and libpcap's maximum
 * snapshot length are both 262144; anything above is a damaged length field, not a packet.
 */
export const MAX_CAPLEN = 262_144;

/**
 * Largest pcapng block: a maximal packet plus 128 KiB for the block header, options and non-packet blocks
 * (name resolution, decryption secrets). Wireshark adds the same 128 KiB allowance for options.
 */
export const MAX_PCAPNG_BLOCK = MAX_CAPLEN + 131_072;

/** Default read size for files: large enough that the per-chunk await costs nothing next to the per-packet work. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** Distinct kinds of non-fatal notes kept per source; further kinds are only counted. */
export const MAX_NOTE_KINDS = 20;
