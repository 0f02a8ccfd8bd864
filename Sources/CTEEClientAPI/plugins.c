/* rproc-tee: loading and calling tee-supplicant plugins (see rproc_tee_plugins.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rproc_tee_plugins.h"
#include "tee_plugin_method.h"

struct loaded_plugin {
	void *handle;
	struct plugin_method *method;
};

static void keep_error(char *error, size_t size)
{
	const char *text = dlerror();

	if (error && size)
		snprintf(error, size, "%s", text ? text : "no `plugin_method` with a name and an invoke function");
}

int rproc_tee_plugin_load(const char *path, void **plugin, TEEC_Result *init_result, char *error, size_t error_size)
{
	struct loaded_plugin *p = NULL;
	struct plugin_method *m = NULL;
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!handle) {
		keep_error(error, error_size);
		return -1;
	}
	dlerror();
	m = (struct plugin_method *)dlsym(handle, "plugin_method");
	if (!m || !m->name || !m->invoke) {
		keep_error(error, error_size);
		dlclose(handle);
		return -2;
	}
	if (m->init) {
		TEEC_Result r = m->init();

		if (r != TEEC_SUCCESS) {
			if (init_result)
				*init_result = r;
			dlclose(handle);
			return -3;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		dlclose(handle);
		return -1;
	}
	p->handle = handle;
	p->method = m;
	*plugin = p;
	return 0;
}

void rproc_tee_plugin_uuid(void *plugin, unsigned char octets[16])
{
	const TEEC_UUID *u = &((struct loaded_plugin *)plugin)->method->uuid;

	octets[0] = u->timeLow >> 24;
	octets[1] = u->timeLow >> 16;
	octets[2] = u->timeLow >> 8;
	octets[3] = u->timeLow;
	octets[4] = u->timeMid >> 8;
	octets[5] = u->timeMid;
	octets[6] = u->timeHiAndVersion >> 8;
	octets[7] = u->timeHiAndVersion;
	memcpy(octets + 8, u->clockSeqAndNode, 8);
}

const char *rproc_tee_plugin_name(void *plugin)
{
	return ((struct loaded_plugin *)plugin)->method->name;
}

TEEC_Result rproc_tee_plugin_invoke(void *plugin, unsigned int cmd, unsigned int sub_cmd, void *data, size_t in_len, size_t *out_len)
{
	return ((struct loaded_plugin *)plugin)->method->invoke(cmd, sub_cmd, data, in_len, out_len);
}

void rproc_tee_plugin_close(void *plugin)
{
	struct loaded_plugin *p = plugin;

	dlclose(p->handle);
	free(p);
}
