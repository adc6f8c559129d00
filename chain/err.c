/*
 * err.c: messages and names of the project's error codes (see base.h).
 */
#include "chain/base.h"

const char *based_strerror(based_err e)
{
    switch (e) {
#define BASED_ERR_MSG(name, code, msg) case BASED_E_##name: return msg;
        BASED_ERRORS(BASED_ERR_MSG)
#undef BASED_ERR_MSG
    default:
        return "unknown error";
    }
}

const char *based_errname(based_err e)
{
    switch (e) {
#define BASED_ERR_NAME(name, code, msg) case BASED_E_##name: return #name;
        BASED_ERRORS(BASED_ERR_NAME)
#undef BASED_ERR_NAME
    default:
        return "UNKNOWN";
    }
}
