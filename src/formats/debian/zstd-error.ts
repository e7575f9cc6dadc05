/** A .zst that is malformed or uses what the decoder does not support. */
export class ZstdError extends Error {}
