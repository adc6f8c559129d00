/*
 * miner_main.c: the based-miner program: the miner library with the honest
 * answer (see miner.h).
 */
#include "neurons/miner.h"

int main(int argc, char **argv)
{
    return neuron_miner_main(argc, argv, neuron_miner_answer_honest, NULL);
}
