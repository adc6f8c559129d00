/* tests/emission uses the shared test chain of tests/contracts. */
#include "tests/contracts/env.h"
