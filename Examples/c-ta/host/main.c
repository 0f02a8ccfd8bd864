/* The counter example's host program: `counter` adds one and prints the counter; `counter read`
 * prints it; `counter attest NONCE` prints it with the TA's HMAC over NONCE and it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>

#include <counter_ta.h>

static void fail(const char *what, TEEC_Result r, uint32_t origin)
{
	fprintf(stderr, "counter: %s failed with 0x%x (origin %u)\n", what, r, origin);
	exit(1);
}

int main(int argc, char *argv[])
{
	TEEC_Context ctx;
	TEEC_Session session;
	TEEC_UUID uuid = TA_COUNTER_UUID;
	uint32_t origin = 0;
	TEEC_Result r = TEEC_InitializeContext(NULL, &ctx);
	if (r != TEEC_SUCCESS)
		fail("TEEC_InitializeContext", r, 0);
	r = TEEC_OpenSession(&ctx, &session, &uuid, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
	if (r != TEEC_SUCCESS)
		fail("TEEC_OpenSession", r, origin);

	TEEC_Operation op;
	memset(&op, 0, sizeof(op));
	if (argc > 2 && !strcmp(argv[1], "attest")) {
		uint8_t mac[32];
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_VALUE_OUTPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE);
		op.params[0].tmpref.buffer = argv[2];
		op.params[0].tmpref.size = strlen(argv[2]);
		op.params[2].tmpref.buffer = mac;
		op.params[2].tmpref.size = sizeof(mac);
		r = TEEC_InvokeCommand(&session, TA_COUNTER_CMD_ATTEST, &op, &origin);
		if (r != TEEC_SUCCESS)
			fail("attest", r, origin);
		printf("counter %u, hmac ", op.params[1].value.a);
		for (size_t i = 0; i < op.params[2].tmpref.size; i++)
			printf("%02x", mac[i]);
		printf("\n");
	} else {
		uint32_t cmd = argc > 1 && !strcmp(argv[1], "read") ? TA_COUNTER_CMD_READ : TA_COUNTER_CMD_INCREMENT;
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
		r = TEEC_InvokeCommand(&session, cmd, &op, &origin);
		if (r != TEEC_SUCCESS)
			fail(cmd == TA_COUNTER_CMD_READ ? "read" : "increment", r, origin);
		printf("counter %u\n", op.params[0].value.a);
	}
	TEEC_CloseSession(&session);
	TEEC_FinalizeContext(&ctx);
	return 0;
}
