/* based-cli: the JSON-RPC client and wallet. Everything is in cli/cmd.c. */
#include "cli/cmd.h"
#include "chain/base.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
