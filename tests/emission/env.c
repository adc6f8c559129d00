/* The shared test chain helper, compiled into this binary too. */
#include "tests/contracts/env.c"
