/* A tee-supplicant plugin of our own standing in for optee_examples' syslog plugin (its UUID and
 * command, interface facts): command 0 appends "<sub-command> <data>\n" — the priority and the
 * line the plugins example TA sends — to the file named by $RPROC_TEE_TEST_PLUGIN_LOG, so a test
 * can read what reached the normal world. Built and loaded by SupplicantDaemonTests. */
#include <stdio.h>
#include <stdlib.h>
#include <tee_plugin_method.h>

static TEEC_Result invoke(unsigned int cmd, unsigned int sub_cmd, void *data, size_t in_len, size_t *out_len)
{
	const char *path = getenv("RPROC_TEE_TEST_PLUGIN_LOG");
	FILE *log = NULL;

	(void)out_len;
	if (cmd != 0)
		return TEEC_ERROR_NOT_SUPPORTED;
	if (!path || !(log = fopen(path, "a")))
		return TEEC_ERROR_GENERIC;
	fprintf(log, "%u %.*s\n", sub_cmd, (int)in_len, data ? (const char *)data : "");
	fclose(log);
	return TEEC_SUCCESS;
}

struct plugin_method plugin_method = {
	"rproc-tee log plugin",
	{ 0x96bcf744, 0x4f72, 0x4866, { 0xbf, 0x1d, 0x86, 0x34, 0xfd, 0x9c, 0x65, 0xe5 } },
	NULL,
	invoke,
};
