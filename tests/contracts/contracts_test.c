/* Tests of contracts/ (Pepecoin, Brains, governance) and staking/ (neurons,
 * stake): every rule and rejection with its code. */
#include "tests/runner.h"
#include "tests/contracts/env.h"

#define SHORT_BASE "\"brain_stake_lock_blocks\": 5, \"max_validators\": 4, " \
                   "\"max_miners\": 3, \"gov_voting_blocks\": 4, \"gov_year1_blocks\": 40, " \
                   "\"take_rate_limit_blocks\": 5"
#define SHORT SHORT_BASE ", \"immunity_blocks\": 3"

static char buf[1024];
#define J(...) (snprintf(buf, sizeof buf, __VA_ARGS__), buf)

static void brain_of(env *e, unsigned id, contract_brain *b)
{
    chain_view *v = chain_ledger_view(e->l);
    if (contract_brain_get(v, id, b) != BASED_E_OK)
        memset(b, 0, sizeof *b);
    chain_view_free(v);
}

TEST(pepe_genesis_transfer_bridge)
{
    env e;
    env_open(&e, SHORT);
    CHECK_EQ_U64(env_pepe(&e, 3), 200000000ull * CHAIN_COIN);
    CHECK_EQ_INT(env_tx(&e, 1, "pepe_transfer", J("{\"to\": \"%s\", \"amount\": \"2.5\"}",
                                                  env_addr(&e, 2))), BASED_E_OK);
    CHECK_EQ_U64(env_pepe(&e, 2), 200000002500000000ull);
    CHECK_EQ_INT(env_tx(&e, 1, "pepe_transfer", J("{\"to\": \"%s\", \"amount\": \"300000000\"}",
                                                  env_addr(&e, 2))), BASED_E_INSUFFICIENT);
    CHECK_EQ_STR(e.why, "amount");
    CHECK_EQ_INT(env_tx(&e, 1, "pepe_transfer", J("{\"to\": \"%s\", \"amount\": \"1\"}",
                                                  env_addr(&e, 1))), BASED_E_SELF_TRANSFER);
    CHECK_EQ_INT(env_tx(&e, 1, "pepe_transfer", J("{\"to\": \"%s\", \"amount\": \"0\"}",
                                                  env_addr(&e, 2))), BASED_E_ZERO_AMOUNT);
    /* dev0 is the dev bridge key */
    CHECK_EQ_INT(env_tx(&e, 0, "pepe_bridge", J("{\"to\": \"%s\", \"amount\": \"7\"}",
                                                env_addr(&e, 4))), BASED_E_OK);
    CHECK_EQ_U64(env_pepe(&e, 4), 200000007ull * CHAIN_COIN);
    CHECK_EQ_INT(env_tx(&e, 1, "pepe_bridge", J("{\"to\": \"%s\", \"amount\": \"7\"}",
                                                env_addr(&e, 4))), BASED_E_UNAUTHORIZED);
    CHECK(env_audit(&e));
    env_close(&e);
}

TEST(brain_reserved_and_buy_by_burn)
{
    env e;
    contract_brain b;
    env_open(&e, SHORT);
    brain_of(&e, 47, &b);
    CHECK_EQ_INT(b.method, CONTRACT_BY_RESERVE);
    CHECK_EQ_MEM(b.owner.b, e.dev[0].b, 32);
    CHECK_EQ_INT(env_tx(&e, 1, "brain_buy", "{\"method\": \"burn\", \"id\": 47}"), BASED_E_RESERVED);
    CHECK_EQ_STR(e.why, "id");
    CHECK_EQ_INT(env_tx(&e, 1, "brain_buy", "{\"method\": \"burn\", \"id\": 3}"), BASED_E_RESERVED);
    uint64_t p0 = env_pepe(&e, 1);
    CHECK_EQ_INT(env_tx(&e, 1, "brain_buy", "{\"method\": \"burn\"}"), BASED_E_OK);
    CHECK_EQ_U64(p0 - env_pepe(&e, 1), 1000 * CHAIN_COIN);
    brain_of(&e, 7, &b);                       /* the lowest free id */
    CHECK_EQ_INT(b.method, CONTRACT_BY_BURN);
    CHECK_EQ_MEM(b.owner.b, e.dev[1].b, 32);
    CHECK_EQ_U64(b.fee, 100 * CHAIN_COIN);
    CHECK_EQ_INT(env_tx(&e, 2, "brain_buy", "{\"method\": \"burn\", \"id\": 7}"), BASED_E_EXISTS);
    p0 = env_pepe(&e, 2);
    CHECK_EQ_INT(env_tx(&e, 2, "brain_buy", "{\"method\": \"burn\", \"id\": 500}"), BASED_E_OK);
    CHECK_EQ_U64(p0 - env_pepe(&e, 2), 1200 * CHAIN_COIN);
    /* transfer: burned Brains only, by the owner */
    CHECK_EQ_INT(env_tx(&e, 2, "brain_transfer", J("{\"id\": 7, \"to\": \"%s\"}", env_addr(&e, 3))),
                 BASED_E_UNAUTHORIZED);
    CHECK_EQ_INT(env_tx(&e, 1, "brain_transfer", J("{\"id\": 7, \"to\": \"%s\"}", env_addr(&e, 3))),
                 BASED_E_OK);
    brain_of(&e, 7, &b);
    CHECK_EQ_MEM(b.owner.b, e.dev[3].b, 32);
    CHECK_EQ_MEM(b.payout.b, e.dev[3].b, 32);
    CHECK_EQ_INT(env_tx(&e, 0, "brain_transfer", J("{\"id\": 0, \"to\": \"%s\"}", env_addr(&e, 3))),
                 BASED_E_NOT_TRANSFERABLE);
    CHECK_EQ_INT(env_tx(&e, 3, "brain_deactivate", "{\"id\": 7}"), BASED_E_NOT_DEACTIVATABLE);
    /* settings */
    CHECK_EQ_INT(env_tx(&e, 1, "brain_set", "{\"id\": 7, \"name\": \"x\"}"), BASED_E_UNAUTHORIZED);
    CHECK_EQ_INT(env_tx(&e, 3, "brain_set", "{\"id\": 7}"), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(env_tx(&e, 3, "brain_set", "{\"id\": 7, \"validator_bps\": 10001}"), BASED_E_BAD_PARAM);
    CHECK_EQ_STR(e.why, "validator_bps");
    CHECK_EQ_INT(env_tx(&e, 3, "brain_set", J("{\"id\": 7, \"name\": \"Pepe Brain\", \"designation\": "
                 "\"pepe.based\", \"payout\": \"%s\", \"model_hash\": \"0x%064d\", \"model_uri\": "
                 "\"hf://based/zk-llm\", \"fee\": \"5\", \"validator_bps\": 6000, \"consensus\": "
                 "\"whitepaper\"}", env_addr(&e, 9), 7)), BASED_E_OK);
    brain_of(&e, 7, &b);
    CHECK_EQ_STR(b.name, "Pepe Brain");
    CHECK_EQ_STR(b.designation, "pepe.based");
    CHECK_EQ_STR(b.model_uri, "hf://based/zk-llm");
    CHECK_EQ_INT(b.model_hash.b[31], 0x07);
    CHECK_EQ_MEM(b.payout.b, e.dev[9].b, 32);
    CHECK_EQ_U64(b.fee, 5 * CHAIN_COIN);
    CHECK_EQ_INT(b.validator_bps, 6000);
    CHECK_EQ_INT(b.consensus, CONTRACT_CONSENSUS_WHITEPAPER);
    CHECK(env_audit(&e));
    env_close(&e);
}

TEST(brain_buy_by_stake_lock_and_deactivate)
{
    env e;
    contract_brain b;
    env_open(&e, SHORT);
    uint64_t p0 = env_pepe(&e, 4);
    CHECK_EQ_INT(env_tx(&e, 4, "brain_buy", "{\"method\": \"stake\", \"id\": 9}"), BASED_E_OK);
    CHECK_EQ_U64(p0 - env_pepe(&e, 4), 100000 * CHAIN_COIN);
    brain_of(&e, 9, &b);
    CHECK_EQ_INT(b.method, CONTRACT_BY_STAKE);
    CHECK_EQ_U64(b.unlock_at, env_height(&e) + 5);
    CHECK_EQ_INT(env_tx(&e, 4, "brain_transfer", J("{\"id\": 9, \"to\": \"%s\"}", env_addr(&e, 3))),
                 BASED_E_NOT_TRANSFERABLE);
    CHECK_EQ_INT(env_tx(&e, 3, "brain_deactivate", "{\"id\": 9}"), BASED_E_UNAUTHORIZED);
    CHECK_EQ_INT(env_tx(&e, 4, "brain_deactivate", "{\"id\": 9}"), BASED_E_LOCKED);
    CHECK(env_audit(&e));
    env_blocks(&e, 3);
    CHECK_EQ_INT(env_tx(&e, 4, "brain_deactivate", "{\"id\": 9}"), BASED_E_OK);
    CHECK_EQ_U64(env_pepe(&e, 4), p0);
    brain_of(&e, 9, &b);
    CHECK_EQ_INT(b.instance, 0);               /* gone: the id is free again */
    CHECK_EQ_INT(env_tx(&e, 5, "brain_buy", "{\"method\": \"burn\", \"id\": 9}"), BASED_E_OK);
    CHECK(env_audit(&e));
    env_close(&e);
}

TEST(brain_limit_1025th)
{
    env e;
    env_open(&e, "\"brain_burn_base\": \"1\", \"brain_burn_step\": \"0.001\"");
    chain_tx txs[1016];
    chain_tx *c[1016];
    uint8_t sk[32], p[2] = { 0, 0 };   /* method burn, id absent */
    char err[256];
    size_t inc;
    chain_key_dev(1, sk);
    for (int i = 0; i < 1016; i++) {
        memset(&txs[i], 0, sizeof txs[i]);
        chain_tx_make(&txs[i], "based-devnet", (uint64_t)i, 10000, CONTRACT_KIND_BRAIN_BUY, p, 2, sk);
        c[i] = &txs[i];
    }
    CHECK_EQ_INT(chain_ledger_produce(e.l, c, 1016, 0, e.sk, NULL, NULL, &inc, err, sizeof err),
                 BASED_E_OK);
    CHECK_EQ_INT(inc, 1016);
    e.nonce[1] = 1016;
    for (int i = 0; i < 1016; i++)
        chain_tx_release(&txs[i]);
    chain_view *v = chain_ledger_view(e.l);
    contract_totals t;
    contract_totals_get(v, &t);
    chain_view_free(v);
    CHECK_EQ_U64(t.active, 1024);
    CHECK_EQ_INT(env_tx(&e, 2, "brain_buy", "{\"method\": \"burn\"}"), BASED_E_BRAIN_LIMIT);
    CHECK_EQ_INT(env_tx(&e, 2, "brain_buy", "{\"method\": \"stake\"}"), BASED_E_BRAIN_LIMIT);
    CHECK(env_audit(&e));
    env_close(&e);
}

/* dev1 owns Brain 7 (burn); returns its id. */
static unsigned one_brain(env *e)
{
    env_tx(e, 1, "brain_buy", "{\"method\": \"burn\"}");
    return 7;
}

TEST(neurons_memorize_slots_immunity_replacement)
{
    env e;
    contract_brain b;
    stake_neuron n;
    env_open(&e, SHORT_BASE ", \"immunity_blocks\": 12");
    one_brain(&e);
    uint64_t payout0 = env_balance(&e, 1);
    CHECK_EQ_INT(env_tx(&e, 2, "memorize", "{\"brain\": 8, \"role\": \"miner\"}"), BASED_E_NOT_FOUND);
    uint64_t reg0 = env_height(&e) + 1;
    CHECK_EQ_INT(env_tx(&e, 2, "memorize", "{\"brain\": 7, \"role\": \"boss\"}"), BASED_E_BAD_PARAM);
    CHECK_EQ_STR(e.why, "role");
    for (unsigned i = 2; i <= 5; i++)
        CHECK_EQ_INT(env_tx(&e, i, "memorize", "{\"brain\": 7, \"role\": \"validator\"}"), BASED_E_OK);
    CHECK_EQ_U64(env_balance(&e, 1) - payout0, 4 * 100 * CHAIN_COIN);
    CHECK_EQ_INT(env_tx(&e, 2, "memorize", "{\"brain\": 7, \"role\": \"miner\"}"), BASED_E_EXISTS);
    /* the role is full and everyone is immune (3 blocks) */
    CHECK_EQ_INT(env_tx(&e, 6, "memorize", "{\"brain\": 7, \"role\": \"validator\"}"),
                 BASED_E_ROLE_FULL);
    CHECK_EQ_STR(e.why, "role (every neuron of the role is immune)");
    /* uid 0 (dev2) serves and is staked on */
    CHECK_EQ_INT(env_tx(&e, 2, "serve", "{\"brain\": 7, \"host\": \"10.0.0.2\", \"port\": 8091, "
                        "\"x25519\": \"0x0101010101010101010101010101010101010101010101010101010101010101\"}"),
                 BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 8, "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"50\"}",
                                          env_addr(&e, 2))), BASED_E_OK);
    /* a fee change applies to later registrations only */
    CHECK_EQ_INT(env_tx(&e, 1, "brain_set", "{\"id\": 7, \"fee\": \"3\"}"), BASED_E_OK);
    brain_of(&e, 7, &b);
    chain_view *v = chain_ledger_view(e.l);
    stake_neuron_get(v, &b, 1, &n);
    chain_view_free(v);
    CHECK_EQ_U64(n.fee_paid, 100 * CHAIN_COIN);
    CHECK_EQ_INT(env_tx(&e, 6, "memorize", "{\"brain\": 7, \"role\": \"miner\", \"max_fee\": \"2\"}"),
                 BASED_E_FEE_CHANGED);
    payout0 = env_balance(&e, 1);
    CHECK_EQ_INT(env_tx(&e, 6, "memorize", "{\"brain\": 7, \"role\": \"miner\", \"max_fee\": \"3\"}"),
                 BASED_E_OK);
    CHECK_EQ_U64(env_balance(&e, 1) - payout0, 3 * CHAIN_COIN);
    /* immunity over for uid 0 (dev2) only: it is replaced */
    CHECK(env_height(&e) + 1 < reg0 + 12);
    env_blocks(&e, (unsigned)(reg0 + 12 - 1 - env_height(&e)));
    CHECK_EQ_INT(env_tx(&e, 7, "memorize", "{\"brain\": 7, \"role\": \"validator\"}"), BASED_E_OK);
    brain_of(&e, 7, &b);
    CHECK_EQ_INT(b.n_uids, 5);
    CHECK_EQ_INT(b.n_validators, 4);
    v = chain_ledger_view(e.l);
    stake_neuron_get(v, &b, 0, &n);
    uint64_t hs;
    stake_hotkey_total(v, 7, b.instance, &n.addr, &hs);
    uint16_t uid;
    based_err gone = stake_uid_of(v, &b, &e.dev[2], &uid);
    chain_view_free(v);
    CHECK_EQ_MEM(n.addr.b, e.dev[7].b, 32);
    CHECK_EQ_U64(n.registered_at, env_height(&e));
    CHECK(!n.served);                          /* nothing of dev2 carries over */
    CHECK_EQ_INT(n.host[0], 0);
    CHECK_EQ_INT(n.x25519[0], 0);
    CHECK_EQ_U64(n.fee_paid, 3 * CHAIN_COIN);
    CHECK_EQ_U64(hs, 0);                       /* dev2's stake stays with dev2's hotkey */
    CHECK_EQ_INT(gone, BASED_E_NOT_FOUND);
    CHECK_EQ_INT(env_tx(&e, 2, "serve", "{\"brain\": 7, \"host\": \"h\", \"port\": 1, \"x25519\": "
                        "\"0x0101010101010101010101010101010101010101010101010101010101010101\"}"),
                 BASED_E_NOT_REGISTERED);
    /* dev8 takes its stake back from the replaced validator */
    CHECK_EQ_INT(env_tx(&e, 8, "unstake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"50\"}",
                                            env_addr(&e, 2))), BASED_E_OK);
    CHECK(env_audit(&e));
    env_close(&e);
}

TEST(stake_unstake_take_active_validators)
{
    env e;
    contract_brain b;
    env_open(&e, SHORT);
    one_brain(&e);
    for (unsigned i = 2; i <= 5; i++)
        env_tx(&e, i, "memorize", "{\"brain\": 7, \"role\": \"validator\"}");
    env_tx(&e, 6, "memorize", "{\"brain\": 7, \"role\": \"miner\"}");
    CHECK_EQ_INT(env_tx(&e, 8, "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"1\"}",
                                          env_addr(&e, 6))), BASED_E_NOT_VALIDATOR);
    CHECK_EQ_INT(env_tx(&e, 8, "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"1\"}",
                                          env_addr(&e, 9))), BASED_E_NOT_REGISTERED);
    CHECK_EQ_INT(env_tx(&e, 8, "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"0\"}",
                                          env_addr(&e, 2))), BASED_E_ZERO_AMOUNT);
    CHECK_EQ_INT(env_tx(&e, 8, "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"2000000\"}",
                                          env_addr(&e, 2))), BASED_E_INSUFFICIENT);
    /* stakes: uid0 10, uid1 30 (own 10 + delegated 20), uid2 10, uid3 5 */
    const unsigned who[] = { 2, 3, 8, 4, 5 }, to[] = { 2, 3, 3, 4, 5 };
    const char *amt[] = { "10", "10", "20", "10", "5" };
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(env_tx(&e, who[i], "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": "
                                                   "\"%s\"}", env_addr(&e, to[i]), amt[i])), BASED_E_OK);
    brain_of(&e, 7, &b);
    CHECK_EQ_U64(b.stake, 55 * CHAIN_COIN);
    bool active[STAKE_MAX_UIDS];
    uint64_t st[STAKE_MAX_UIDS];
    chain_view *v = chain_ledger_view(e.l);
    CHECK_EQ_INT(stake_active_validators(v, &e.g, &b, active, st), BASED_E_OK);
    chain_view_free(v);
    /* 4 validators: the bottom floor(4 x 30 %) = 1 is inactive; uid 4 is a miner */
    CHECK(active[0] && active[1] && active[2] && !active[3] && !active[4]);
    CHECK_EQ_U64(st[1], 30 * CHAIN_COIN);
    /* a tie: uid 3 gets to 10 as well; the lower uid (0) loses */
    CHECK_EQ_INT(env_tx(&e, 5, "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"5\"}",
                                          env_addr(&e, 5))), BASED_E_OK);
    brain_of(&e, 7, &b);
    v = chain_ledger_view(e.l);
    stake_active_validators(v, &e.g, &b, active, st);
    chain_view_free(v);
    CHECK(!active[0] && active[1] && active[2] && active[3]);
    /* unstake */
    CHECK_EQ_INT(env_tx(&e, 8, "unstake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"20.000000001\"}",
                                            env_addr(&e, 3))), BASED_E_INSUFFICIENT);
    CHECK_EQ_STR(e.why, "amount (more than staked)");
    uint64_t b0 = env_balance(&e, 8);
    CHECK_EQ_INT(env_tx(&e, 8, "unstake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"20\"}",
                                            env_addr(&e, 3))), BASED_E_OK);
    CHECK_EQ_U64(env_balance(&e, 8) - b0 + 10000, 20 * CHAIN_COIN);
    /* take: bounds and rate limit */
    CHECK_EQ_INT(env_tx(&e, 3, "set_take", "{\"take_bps\": 3001}"), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(env_tx(&e, 3, "set_take", "{\"take_bps\": 1000}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 3, "set_take", "{\"take_bps\": 1100}"), BASED_E_RATE_LIMITED);
    env_blocks(&e, 5);
    CHECK_EQ_INT(env_tx(&e, 3, "set_take", "{\"take_bps\": 1100}"), BASED_E_OK);
    CHECK(env_audit(&e));
    env_close(&e);
}

static uint64_t param_now(env *e, size_t off)
{
    chain_view *v = chain_ledger_view(e->l);
    uint64_t x = contract_param_get(v, &e->g, off);
    chain_view_free(v);
    return x;
}

static uint64_t prop_end(env *e, uint64_t id)
{
    based_err code;
    chain_view *v = chain_ledger_view(e->l);
    json_t *p = contract_gov_json(v, &e->g, env_height(e), id, &code);
    chain_view_free(v);
    uint64_t end = p ? (uint64_t)json_integer_value(json_object_get(p, "end")) : 0;
    json_decref(p);
    return end;
}

static void until(env *e, uint64_t h)
{
    while (env_height(e) < h)
        env_blocks(e, 1);
}

TEST(gov_proposals_votes_and_parameter_change)
{
    env e;
    env_open(&e, "\"immunity_blocks\": 3, \"gov_voting_blocks\": 12, \"gov_year1_blocks\": 60");
    one_brain(&e);                                   /* dev1: Brain 7 */
    env_tx(&e, 2, "brain_buy", "{\"method\": \"burn\"}");   /* dev2: Brain 8 */
    env_tx(&e, 3, "brain_buy", "{\"method\": \"burn\"}");   /* dev3: Brain 9 */
    for (unsigned i = 7; i <= 9; i++) {
        env_tx(&e, i - 5, "memorize", J("{\"brain\": %u, \"role\": \"validator\"}", i));
        env_tx(&e, i - 5, "stake", J("{\"brain\": %u, \"hotkey\": \"%s\", \"amount\": \"%s\"}", i,
                                     env_addr(&e, i - 5), i == 9 ? "0.001" : "100"));
    }
    /* Brains 7 and 8 are GigaBrains (0.5 % of the stake); 9 is not */
    CHECK_EQ_INT(env_tx(&e, 4, "gov_propose", "{\"kind\": \"text\", \"text\": \"hi\"}"),
                 BASED_E_UNAUTHORIZED);
    CHECK_EQ_INT(env_tx(&e, 3, "gov_propose", "{\"kind\": \"text\", \"text\": \"hi\", \"brain\": 9}"),
                 BASED_E_NOT_GIGABRAIN);
    CHECK_EQ_INT(env_tx(&e, 0, "gov_propose", "{\"kind\": \"param\", \"param\": \"min_fee\", "
                        "\"value\": 1}"), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(env_tx(&e, 0, "gov_propose", "{\"kind\": \"param\", \"param\": \"immunity_blocks\", "
                        "\"value\": 9}"), BASED_E_OK);             /* proposal 1, by the admin */
    CHECK_EQ_INT(env_tx(&e, 1, "gov_propose", "{\"kind\": \"text\", \"text\": \"more memes\", "
                        "\"brain\": 7}"), BASED_E_OK);            /* proposal 2, by a GigaBrain */
    CHECK_EQ_INT(env_tx(&e, 3, "gov_vote", "{\"proposal\": 1, \"choice\": \"no\", \"brain\": 9}"),
                 BASED_E_NOT_GIGABRAIN);
    CHECK_EQ_INT(env_tx(&e, 3, "gov_vote", "{\"proposal\": 1, \"choice\": \"no\", \"brain\": 7}"),
                 BASED_E_UNAUTHORIZED);
    CHECK_EQ_INT(env_tx(&e, 1, "gov_vote", "{\"proposal\": 1, \"choice\": \"no\", \"brain\": 7}"),
                 BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 1, "gov_vote", "{\"proposal\": 1, \"choice\": \"yes\", \"brain\": 7}"),
                 BASED_E_ALREADY_VOTED);
    CHECK_EQ_INT(env_tx(&e, 6, "gov_vote", "{\"proposal\": 1, \"choice\": \"yes\"}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 6, "gov_vote", "{\"proposal\": 1, \"choice\": \"no\"}"),
                 BASED_E_ALREADY_VOTED);
    CHECK_EQ_INT(env_tx(&e, 6, "gov_vote", "{\"proposal\": 5, \"choice\": \"no\"}"), BASED_E_NOT_FOUND);
    CHECK_EQ_U64(param_now(&e, offsetof(chain_params, immunity_blocks)), 3);
    CHECK(env_height(&e) < prop_end(&e, 1));
    until(&e, prop_end(&e, 2));
    CHECK_EQ_INT(env_tx(&e, 2, "gov_vote", "{\"proposal\": 1, \"choice\": \"no\", \"brain\": 8}"),
                 BASED_E_VOTING_CLOSED);
    /* year 1: one no of two GigaBrains is no majority: passed, and it took effect */
    CHECK_EQ_U64(param_now(&e, offsetof(chain_params, immunity_blocks)), 9);
    chain_view *v = chain_ledger_view(e.l);
    based_err code;
    json_t *p1 = contract_gov_json(v, &e.g, env_height(&e), 1, &code);
    json_t *p2 = contract_gov_json(v, &e.g, env_height(&e), 2, &code);
    chain_view_free(v);
    CHECK_EQ_STR(json_string_value(json_object_get(p1, "status")), "passed");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(p1, "signal"), "yes")),
                 "200000000");
    CHECK_EQ_STR(json_string_value(json_object_get(p2, "status")), "passed");
    json_decref(p1);
    json_decref(p2);
    /* after year 1 (60 blocks): a proposal needs a majority voting yes */
    until(&e, 60);
    CHECK_EQ_INT(env_tx(&e, 0, "gov_propose", "{\"kind\": \"param\", \"param\": \"immunity_blocks\", "
                        "\"value\": 1}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 1, "gov_vote", "{\"proposal\": 3, \"choice\": \"yes\", \"brain\": 7}"),
                 BASED_E_OK);
    until(&e, prop_end(&e, 3));
    CHECK_EQ_U64(param_now(&e, offsetof(chain_params, immunity_blocks)), 9);
    CHECK_EQ_INT(env_tx(&e, 0, "gov_propose", "{\"kind\": \"param\", \"param\": \"immunity_blocks\", "
                        "\"value\": 2}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 1, "gov_vote", "{\"proposal\": 4, \"choice\": \"yes\", \"brain\": 7}"),
                 BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 2, "gov_vote", "{\"proposal\": 4, \"choice\": \"yes\", \"brain\": 8}"),
                 BASED_E_OK);
    until(&e, prop_end(&e, 4));
    CHECK_EQ_U64(param_now(&e, offsetof(chain_params, immunity_blocks)), 2);
    CHECK(env_audit(&e));
    char err[512], tmp[600];
    snprintf(tmp, sizeof tmp, "%s/verify", test_tmpdir());
    chain_ledger_free(e.l);
    e.l = NULL;
    CHECK_EQ_INT(chain_ledger_verify(env_runtime(), e.db, tmp, NULL, NULL, err, sizeof err), BASED_E_OK);
    chain_genesis_release(&e.g);
}

TEST(payload_codec_strict)
{
    const chain_kind *k = chain_kind_by_name(based_runtime(), "brain_set");
    const char *why = "";
    CHECK(k != NULL);
    uint8_t ok[] = { 7, 0, 1, 1, 'x', 0, 0, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(k->check(ok, sizeof ok, &why), BASED_E_OK);
    uint8_t presence2[] = { 7, 0, 2, 1, 'x', 0, 0, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(k->check(presence2, sizeof presence2, &why), BASED_E_DECODE);
    CHECK_EQ_STR(why, "name");
    uint8_t ctrl[] = { 7, 0, 1, 1, '\n', 0, 0, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(k->check(ctrl, sizeof ctrl, &why), BASED_E_DECODE);
    uint8_t trailing[] = { 7, 0, 1, 1, 'x', 0, 0, 0, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(k->check(trailing, sizeof trailing, &why), BASED_E_DECODE);
    uint8_t bigid[] = { 0, 4, 1, 1, 'x', 0, 0, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(k->check(bigid, sizeof bigid, &why), BASED_E_BAD_PARAM);
    CHECK_EQ_STR(why, "id");
    json_t *j = k->to_json(ok, sizeof ok, 32323);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "name")), "x");
    chain_wbuf w;
    chain_w_init(&w, 1024);
    CHECK_EQ_INT(k->from_json(j, 32323, &w, &why), BASED_E_OK);
    CHECK_EQ_INT(w.len, sizeof ok);
    CHECK_EQ_MEM(w.p, ok, sizeof ok);
    json_object_set_new(j, "bogus", json_true());
    CHECK_EQ_INT(k->from_json(j, 32323, &w, &why), BASED_E_BAD_PARAM);
    CHECK_EQ_STR(why, "bogus");
    json_decref(j);
    chain_w_free(&w);
}

/* genesis-short.json (the file `basedd --dev --genesis genesis-short.json`
 * runs): the 90-day lock is 60 blocks, a vote 30, a year 600. */
TEST(short_genesis_lock_and_vote_complete)
{
    env e;
    char err[512];
    chain_edpub pub;
    memset(&e, 0, sizeof e);
    CHECK_EQ_INT(chain_genesis_load("genesis-short.json", &e.g, err, sizeof err), BASED_E_OK);
    chain_ed_generate(e.sk, &pub);
    chain_genesis_make_dev(&e.g, &pub, 1767225600000ull);
    for (unsigned i = 0; i < 10; i++) {
        uint8_t sk[32];
        chain_key_dev(i, sk);
        chain_key_pub(sk, &e.dev[i]);
    }
    snprintf(e.db, sizeof e.db, "%s/db", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(env_runtime(), e.db, &e.g, &e.l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_U64(e.g.params.brain_stake_lock_blocks, 60);
    CHECK_EQ_INT(env_tx(&e, 2, "brain_buy", "{\"method\": \"stake\"}"), BASED_E_OK);
    contract_brain b;
    brain_of(&e, 7, &b);
    CHECK_EQ_U64(b.unlock_at, 61);
    CHECK_EQ_INT(env_tx(&e, 2, "memorize", "{\"brain\": 7, \"role\": \"validator\"}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 3, "stake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"10\"}",
                                          env_addr(&e, 2))), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 2, "gov_propose", "{\"kind\": \"param\", \"param\": "
                        "\"gigabrain_bps\", \"value\": 100, \"brain\": 7}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 2, "gov_vote", "{\"proposal\": 1, \"choice\": \"yes\", \"brain\": 7}"),
                 BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 2, "brain_deactivate", "{\"id\": 7}"), BASED_E_LOCKED);
    until(&e, 60);
    CHECK_EQ_U64(param_now(&e, offsetof(chain_params, gigabrain_bps)), 100);
    CHECK_EQ_INT(env_tx(&e, 2, "brain_deactivate", "{\"id\": 7}"), BASED_E_OK);
    CHECK_EQ_U64(env_pepe(&e, 2), 200000000ull * CHAIN_COIN);
    /* the delegator takes its BASED back from the deactivated Brain's instance */
    CHECK_EQ_INT(env_tx(&e, 3, "unstake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"10\"}",
                                            env_addr(&e, 2))), BASED_E_NOT_FOUND);
    CHECK_EQ_INT(env_tx(&e, 3, "unstake", J("{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"10\", "
                                            "\"instance\": %u}", env_addr(&e, 2), b.instance)),
                 BASED_E_OK);
    CHECK(env_audit(&e));
    env_close(&e);
}

void test_scenario_random(void);
void test_rpc_brains_neurons_accounts_gov(void);
void test_cli_brains_end_to_end(void);
void test_cli_rewards_end_to_end(void);

const struct test_case test_table[] = {
    { "pepe_genesis_transfer_bridge", test_pepe_genesis_transfer_bridge },
    { "brain_reserved_and_buy_by_burn", test_brain_reserved_and_buy_by_burn },
    { "brain_buy_by_stake_lock_and_deactivate", test_brain_buy_by_stake_lock_and_deactivate },
    { "brain_limit_1025th", test_brain_limit_1025th },
    { "neurons_memorize_slots_immunity_replacement", test_neurons_memorize_slots_immunity_replacement },
    { "stake_unstake_take_active_validators", test_stake_unstake_take_active_validators },
    { "gov_proposals_votes_and_parameter_change", test_gov_proposals_votes_and_parameter_change },
    { "payload_codec_strict", test_payload_codec_strict },
    { "short_genesis_lock_and_vote_complete", test_short_genesis_lock_and_vote_complete },
    { "rpc_brains_neurons_accounts_gov", test_rpc_brains_neurons_accounts_gov },
    { "cli_brains_end_to_end", test_cli_brains_end_to_end },
    { "cli_rewards_end_to_end", test_cli_rewards_end_to_end },
    { "scenario_random", test_scenario_random },
    { NULL, NULL },
};
