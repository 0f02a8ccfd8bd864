/* rproc-tee: the tee-supplicant plugin interface, as OP-TEE's optee_client declares it, so a
 * plugin's source builds against this header set unmodified. A plugin is a shared object that
 * exports one `struct plugin_method` named `plugin_method`; `rproc-tee supplicant` loads every
 * file of its plugin folder and calls `init` (if set) once, then `invoke` for each call a TA
 * makes with tee_invoke_supp_plugin / TEE.invokeSupplicantPlugin. */
#ifndef TEE_PLUGIN_METHOD_H
#define TEE_PLUGIN_METHOD_H

#include <stddef.h>
#include "tee_client_api.h"

struct plugin_method {
	const char *name;  /* a short name, for the supplicant's log */
	TEEC_UUID uuid;    /* the UUID TAs call the plugin by */
	TEEC_Result (*init)(void);
	/* `data` holds `in_len` bytes from the TA (NULL when 0); the plugin may change them and
	 * sets `*out_len` to the length it reports back (the TA gets at most `in_len` bytes). */
	TEEC_Result (*invoke)(unsigned int cmd, unsigned int sub_cmd, void *data, size_t in_len, size_t *out_len);
};

#endif
