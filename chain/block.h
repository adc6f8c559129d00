/*
 * block.h: block headers, blocks and commits.
 *
 * Header encoding (codec.h rules):
 *   chain_id bytes, height u64, time_ms u64, prev_hash 32, tx_root 32,
 *   state_root 32, proposer 32 (Ed25519 key),
 *   last_commit: count (LEB128, <= CHAIN_MAX_AUTHORITIES) of
 *                { authority index u16, Ed25519 signature 64 }
 * The block hash is BLAKE2b-256 of the encoded header. A commit signature
 * signs chain_commit_msg(chain id, height, block hash); `last_commit` in
 * header h holds the commit of block h-1 (empty at height 1). The block's
 * own commit is stored next to it until the next header carries it.
 *
 * Block encoding: header, tx count (LEB128, <= CHAIN_MAX_BLOCK_TXS), each
 * tx as bytes (LEB128 length + tx encoding), the proposer's Ed25519
 * signature over the block hash, then the evidence count (LEB128, <=
 * CHAIN_MAX_EVIDENCE) and each evidence { type u8, address 20, height u64,
 * time_ms u64, power u64, total_power u64 }.
 *
 * On a CometBFT network (engine CHAIN_ENGINE_COMETBFT) CometBFT's own
 * commit certifies a block: our header then carries no commit, the
 * proposer signature is all zeros, and the evidence is CometBFT's
 * misbehaviour list of FinalizeBlock, which execution records in state.
 *
 * tx_root: binary Merkle tree over the tx hashes in block order; an odd
 * node at the end of a level moves up unchanged (never paired with itself,
 * so no two tx lists share a root); the empty tree is all zeros;
 * nodes are BLAKE2b-256(left || right).
 */
#ifndef BASED_CHAIN_BLOCK_H
#define BASED_CHAIN_BLOCK_H

#include "chain/codec.h"
#include "chain/tx.h"

#define CHAIN_MAX_AUTHORITIES 128
#define CHAIN_MAX_BLOCK_TXS   20000
#define CHAIN_MAX_BLOCK_BYTES (32u << 20)
#define CHAIN_MAX_EVIDENCE    CHAIN_MAX_AUTHORITIES

/* Evidence of misbehaviour reported by CometBFT (ABCI Misbehavior). */
enum { CHAIN_EVIDENCE_DUPLICATE_VOTE = 1, CHAIN_EVIDENCE_LIGHT_CLIENT_ATTACK = 2 };
typedef struct {
    uint8_t type;              /* CHAIN_EVIDENCE_* */
    uint8_t address[20];       /* CometBFT validator address: SHA-256(key)[0..20] */
    uint64_t height;           /* where the offence happened */
    uint64_t time_ms;
    uint64_t power;            /* the offender's voting power then */
    uint64_t total_power;
} chain_evidence;
#define CHAIN_EVIDENCE_LEN 53

typedef struct {
    uint16_t index;            /* into the genesis authority list */
    chain_edsig sig;
} chain_commit_sig;

typedef struct {
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    uint64_t height;
    uint64_t time_ms;
    chain_hash prev_hash;
    chain_hash tx_root;
    chain_hash state_root;
    chain_edpub proposer;
    size_t ncommit;
    chain_commit_sig commit[CHAIN_MAX_AUTHORITIES];
} chain_header;

typedef struct {
    chain_header h;
    chain_hash hash;
    chain_tx *txs;             /* owned array of ntx */
    size_t ntx;
    chain_edsig proposer_sig;
    size_t nev;
    chain_evidence ev[CHAIN_MAX_EVIDENCE];
} chain_block;

/* Encodes the header; w gets the bytes. */
void chain_header_encode(const chain_header *h, chain_wbuf *w);
chain_hash chain_header_hash(const chain_header *h);
/* The message a commit signature signs. */
chain_hash chain_commit_msg(const char *chain_id, uint64_t height, const chain_hash *block_hash);

void chain_block_encode(const chain_block *b, chain_wbuf *w);
/* Strict decode (every tx decoded, not yet verified); *why names the part. */
based_err chain_block_decode(const void *p, size_t n, chain_block *b, const char **why);
void chain_block_release(chain_block *b);

chain_hash chain_tx_root(const chain_tx *txs, size_t n);

#endif
