/* The network test table: real basedd + cometbft networks on loopback. */
#include "tests/runner.h"

void test_network_four_authorities_agree(void);
void test_network_kill_one_authority(void);
void test_network_pause_two_of_four(void);
void test_network_late_full_node_syncs(void);
void test_network_sigkill_recovery(void);
void test_network_double_sign_evidence(void);

const struct test_case test_table[] = {
    { "network_four_authorities_agree", test_network_four_authorities_agree },
    { "network_kill_one_authority", test_network_kill_one_authority },
    { "network_pause_two_of_four", test_network_pause_two_of_four },
    { "network_late_full_node_syncs", test_network_late_full_node_syncs },
    { "network_sigkill_recovery", test_network_sigkill_recovery },
    { "network_double_sign_evidence", test_network_double_sign_evidence },
    { NULL, NULL }
};
