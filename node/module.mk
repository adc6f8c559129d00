PROGS += basedd
basedd_MAIN := node/basedd.c

# docs/rpc.md is generated from the method table (tests/docs checks it).
.PHONY: rpc-doc
rpc-doc: $(BUILD)/tests/test-docs
	$(BUILD)/tests/test-docs docs_rpc_md_matches_method_table >/dev/null 2>&1; \
	cp $(BUILD)/rpc.md docs/rpc.md 2>/dev/null; echo "docs/rpc.md regenerated"
PROGS += based-net
based-net_MAIN := node/net.c
