/* list.h: every test of test-neurons, in the order they run. */
#ifndef BASED_TESTS_NEURONS_LIST_H
#define BASED_TESTS_NEURONS_LIST_H
#define NEURON_TESTS(X) \
    X(neuron_answer_shape) X(neuron_answer_context) X(neuron_score_honest_exact) \
    X(neuron_gate_length) X(neuron_gate_vocab) X(neuron_gate_logprobs) \
    X(neuron_gate_context) X(neuron_gate_rank) X(neuron_gate_repeat) \
    X(neuron_gate_names) X(neuron_score_left_out) X(neuron_score_q8_tolerance) \
    X(neuron_score_large_vocab_exact) X(neuron_score_speed) X(neuron_cheats_wellformed) \
    X(neuron_score_calibration)
#endif
