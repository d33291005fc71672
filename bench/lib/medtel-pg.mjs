export const PG_PEERS = [];
