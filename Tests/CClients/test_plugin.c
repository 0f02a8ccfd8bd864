/* A tee-supplicant plugin of our own, built in the test run against the installed
 * tee_plugin_method.h and loaded by `rproc-tee supplicant` (not OP-TEE's code). It answers the
 * commands of optee_test's test plugin, whose UUID and command IDs it takes (interface facts),
 * so the supp_plugin TA port can drive it as xtest 1033 does, plus what the failure tests need:
 *   0 PING        success
 *   1 PASS_VALUES data is { u32 a, b }: sub-command '+' adds b to a, '-' subtracts it,
 *                 's' sleeps 3 s first (to be killed mid-call), then subtracts
 *   2 WRITE_ARR   stores the 8-bit sum of the bytes in the first
 *   3 GET_ARR     writes "Array from plugin" and its NUL
 * The init function counts its calls: a plugin is initialised once. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <tee_plugin_method.h>

static int inits;

static TEEC_Result init(void)
{
	inits++;
	return inits == 1 ? TEEC_SUCCESS : TEEC_ERROR_BAD_STATE;
}

static TEEC_Result invoke(unsigned int cmd, unsigned int sub_cmd, void *data, size_t in_len, size_t *out_len)
{
	uint8_t *bytes = data;
	uint32_t v[2];
	uint8_t sum = 0;
	static const char text[] = "Array from plugin";

	switch (cmd) {
	case 0:
		return TEEC_SUCCESS;
	case 1:
		if (in_len < sizeof(v))
			return TEEC_ERROR_BAD_PARAMETERS;
		memcpy(v, data, sizeof(v));
		if (sub_cmd == 's')
			sleep(3);
		v[0] = sub_cmd == '+' ? v[0] + v[1] : v[0] - v[1];
		memcpy(data, v, sizeof(v[0]));
		*out_len = sizeof(v[0]);
		return TEEC_SUCCESS;
	case 2:
		for (size_t i = 0; i < in_len; i++)
			sum += bytes[i];
		if (in_len)
			bytes[0] = sum;
		*out_len = 1;
		return TEEC_SUCCESS;
	case 3:
		if (in_len < sizeof(text))
			return TEEC_ERROR_SHORT_BUFFER;
		memcpy(data, text, sizeof(text));
		*out_len = sizeof(text);
		return TEEC_SUCCESS;
	default:
		return TEEC_ERROR_NOT_SUPPORTED;
	}
}

struct plugin_method plugin_method = {
	"rproc-tee test plugin",
	{ 0xf07bfc66, 0x958c, 0x4a15, { 0x99, 0xc0, 0x26, 0x0e, 0x4e, 0x73, 0x75, 0xdd } },
	init,
	invoke,
};
