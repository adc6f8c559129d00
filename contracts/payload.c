/*
 * payload.c: the table-driven payload codec (see payload.h).
 */
#include <errno.h>

#include "contracts/payload.h"

static uint64_t type_max(const contract_pfield *f)
{
    uint64_t m = f->type == CP_U16 ? UINT16_MAX : f->type == CP_U32 ? UINT32_MAX : UINT64_MAX;
    if (f->type == CP_ENUM) {
        m = 0;
        while (f->names[m + 1])
            m++;
    }
    return f->max && f->max < m ? f->max : m;
}

static bool str_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

static void read_value(chain_rbuf *r, const contract_pfield *f, contract_pval *v)
{
    const uint8_t *s;
    size_t l;
    switch (f->type) {
    case CP_U16: v->u = chain_r_u16(r); break;
    case CP_U32: v->u = chain_r_u32(r); break;
    case CP_ENUM: v->u = chain_r_u8(r); break;
    case CP_U64:
    case CP_AMOUNT: v->u = chain_r_u64(r); break;
    case CP_ADDR:
    case CP_HASH: chain_r_raw(r, v->b, 32); break;
    case CP_STR:
        s = chain_r_bytes(r, &l, f->max ? f->max : CONTRACT_STR_MAX);
        if (s && !str_ok(s, l))
            chain_r_fail(r, "control character in a string");
        if (s)
            memcpy(v->s, s, l);
        v->s[s ? l : 0] = '\0';
        break;
    }
}

based_err contract_payload_decode(const contract_payload *spec, const uint8_t *p, size_t n,
                                  contract_pval *v, const char **why)
{
    chain_rbuf r;
    const char *dummy;
    if (!why)
        why = &dummy;
    chain_r_init(&r, p, n);
    memset(v, 0, spec->n * sizeof *v);
    for (size_t i = 0; i < spec->n; i++) {
        const contract_pfield *f = &spec->f[i];
        v[i].present = true;
        if (f->optional) {
            uint8_t pr = chain_r_u8(&r);
            if (pr > 1)
                chain_r_fail(&r, "presence byte");
            v[i].present = pr == 1;
        }
        if (v[i].present)
            read_value(&r, f, &v[i]);
        if (r.err) {
            *why = f->name;
            return BASED_E_DECODE;
        }
        if (v[i].present && f->type != CP_STR && f->type != CP_ADDR && f->type != CP_HASH &&
            v[i].u > type_max(f)) {
            *why = f->name;
            return BASED_E_BAD_PARAM;
        }
    }
    chain_r_finish(&r);
    if (r.err) {
        *why = "payload";
        return BASED_E_DECODE;
    }
    return BASED_E_OK;
}

void contract_payload_encode(const contract_payload *spec, const contract_pval *v,
                             chain_wbuf *out)
{
    for (size_t i = 0; i < spec->n; i++) {
        const contract_pfield *f = &spec->f[i];
        if (f->optional)
            chain_w_u8(out, v[i].present ? 1 : 0);
        if (!v[i].present)
            continue;
        switch (f->type) {
        case CP_U16: chain_w_u16(out, (uint16_t)v[i].u); break;
        case CP_U32: chain_w_u32(out, (uint32_t)v[i].u); break;
        case CP_ENUM: chain_w_u8(out, (uint8_t)v[i].u); break;
        case CP_U64:
        case CP_AMOUNT: chain_w_u64(out, v[i].u); break;
        case CP_ADDR:
        case CP_HASH: chain_w_raw(out, v[i].b, 32); break;
        case CP_STR: chain_w_bytes(out, v[i].s, strlen(v[i].s)); break;
        }
    }
}

static based_err int_from_json(const contract_pfield *f, json_t *j, uint64_t *u)
{
    if (json_is_integer(j)) {
        if (json_integer_value(j) < 0)
            return BASED_E_BAD_PARAM;
        *u = (uint64_t)json_integer_value(j);
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || s[0] == ' ')
            return BASED_E_BAD_PARAM;
        *u = x;
    } else {
        return BASED_E_BAD_PARAM;
    }
    return *u <= type_max(f) ? BASED_E_OK : BASED_E_BAD_PARAM;
}

static based_err value_from_json(const contract_pfield *f, json_t *j, uint16_t prefix,
                                 contract_pval *v)
{
    const char *s = json_string_value(j);
    switch (f->type) {
    case CP_U16:
    case CP_U32:
    case CP_U64:
        return int_from_json(f, j, &v->u);
    case CP_AMOUNT:
        return s ? chain_amount_parse(s, &v->u, NULL) : BASED_E_BAD_AMOUNT;
    case CP_ADDR:
        return s && chain_addr_parse(s, prefix, (chain_addr *)v->b, NULL) == BASED_E_OK
                   ? BASED_E_OK : BASED_E_BAD_ADDRESS;
    case CP_HASH:
        return s && chain_unhex(s, v->b, 32) == BASED_E_OK ? BASED_E_OK : BASED_E_BAD_HEX;
    case CP_STR: {
        size_t l = s ? strlen(s) : 0;
        if (!s || l > (f->max ? f->max : CONTRACT_STR_MAX) || !str_ok((const uint8_t *)s, l))
            return BASED_E_BAD_PARAM;
        memcpy(v->s, s, l + 1);
        return BASED_E_OK;
    }
    case CP_ENUM:
        for (uint64_t k = 0; s && f->names[k]; k++)
            if (strcmp(f->names[k], s) == 0) {
                v->u = k;
                return BASED_E_OK;
            }
        return BASED_E_BAD_PARAM;
    }
    return BASED_E_INTERNAL;
}

based_err contract_payload_from_json(const contract_payload *spec, json_t *obj,
                                     uint16_t prefix, contract_pval *v, const char **why)
{
    const char *key;
    json_t *j;
    memset(v, 0, spec->n * sizeof *v);
    if (!json_is_object(obj)) {
        *why = "payload";
        return BASED_E_BAD_PARAM;
    }
    json_object_foreach(obj, key, j) {
        size_t i = 0;
        while (i < spec->n && strcmp(spec->f[i].name, key) != 0)
            i++;
        if (i == spec->n) {
            *why = key;
            return BASED_E_BAD_PARAM;
        }
    }
    for (size_t i = 0; i < spec->n; i++) {
        const contract_pfield *f = &spec->f[i];
        j = json_object_get(obj, f->name);
        *why = f->name;
        if (!j || json_is_null(j)) {
            if (!f->optional)
                return BASED_E_BAD_PARAM;
            continue;
        }
        based_err rc = value_from_json(f, j, prefix, &v[i]);
        if (rc != BASED_E_OK)
            return rc;
        v[i].present = true;
    }
    return BASED_E_OK;
}

static json_t *value_to_json(const contract_pfield *f, const contract_pval *v, uint16_t prefix)
{
    char buf[CHAIN_ADDR_STRLEN + 70];
    switch (f->type) {
    case CP_U16:
    case CP_U32:
        return json_integer((json_int_t)v->u);
    case CP_U64:
        snprintf(buf, sizeof buf, "%" PRIu64, v->u);
        return json_string(buf);
    case CP_AMOUNT:
        chain_amount_format(v->u, buf);
        return json_string(buf);
    case CP_ADDR:
        chain_ss58_encode(prefix, (const chain_addr *)v->b, buf);
        return json_string(buf);
    case CP_HASH:
        buf[0] = '0';
        buf[1] = 'x';
        chain_hex(v->b, 32, buf + 2);
        return json_string(buf);
    case CP_STR:
        return json_string(v->s);
    case CP_ENUM:
        return json_string(f->names[v->u]);
    }
    return json_null();
}

json_t *contract_payload_to_json(const contract_payload *spec, const uint8_t *p, size_t n,
                                 uint16_t prefix)
{
    contract_pval v[CONTRACT_MAX_FIELDS];
    if (spec->n > CONTRACT_MAX_FIELDS ||
        contract_payload_decode(spec, p, n, v, NULL) != BASED_E_OK)
        return json_null();
    json_t *o = json_object();
    for (size_t i = 0; i < spec->n; i++) {
        if (!v[i].present)
            continue;
        json_object_set_new(o, spec->f[i].name, value_to_json(&spec->f[i], &v[i], prefix));
        if (spec->f[i].type == CP_AMOUNT) {
            char k[64], b[24];
            snprintf(k, sizeof k, "%s_base", spec->f[i].name);
            snprintf(b, sizeof b, "%" PRIu64, v[i].u);
            json_object_set_new(o, k, json_string(b));
        }
    }
    return o;
}
