/* rproc-tee's loader of tee-supplicant plugins (for `rproc-tee supplicant`; not installed). */
#ifndef RPROC_TEE_PLUGINS_H
#define RPROC_TEE_PLUGINS_H

#include <stddef.h>
#include "tee_client_api.h"

/* Loads the plugin at `path`: dlopen, the `plugin_method` symbol (with a name and an invoke),
 * then its init. 0 on success (*plugin set; close it with rproc_tee_plugin_close); -1 when
 * dlopen fails, -2 when the symbol is missing or incomplete, -3 when init failed (*init_result
 * set). `error` receives dlerror's text for -1 and -2. */
int rproc_tee_plugin_load(const char *path, void **plugin, TEEC_Result *init_result, char *error, size_t error_size);
/* The plugin's UUID (16 octets, RFC 4122 order) and name. */
void rproc_tee_plugin_uuid(void *plugin, unsigned char octets[16]);
const char *rproc_tee_plugin_name(void *plugin);
TEEC_Result rproc_tee_plugin_invoke(void *plugin, unsigned int cmd, unsigned int sub_cmd, void *data, size_t in_len, size_t *out_len);
void rproc_tee_plugin_close(void *plugin);

#endif
