/* cli.c: compress and eval commands of based-model (placeholder). */
#include "model/model.h"
#include "chain/base.h"
int model_cmd_compress(int argc, char **argv);
int model_cmd_eval(int argc, char **argv);
int model_cmd_compress(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int model_cmd_eval(int argc, char **argv) { (void)argc; (void)argv; return 1; }
