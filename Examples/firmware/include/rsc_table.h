/*
 * Linux remoteproc resource-table layout (include/linux/remoteproc.h), for example firmware.
 * Every structure is packed exactly as the kernel and rproc-tee read it.
 */
#ifndef RSC_TABLE_H
#define RSC_TABLE_H
#include <stdint.h>

#define RSC_CARVEOUT 0
#define RSC_DEVMEM 1
#define RSC_TRACE 2
#define RSC_VDEV 3
#define FW_RSC_ADDR_ANY 0xFFFFFFFFu
#define VIRTIO_ID_RPMSG 7
#define VIRTIO_RPMSG_F_NS 1

struct resource_table_header { uint32_t ver, num, reserved[2]; };
struct fw_rsc_carveout { uint32_t type, da, pa, len, flags, reserved; uint8_t name[32]; };
struct fw_rsc_trace { uint32_t type, da, len, reserved; uint8_t name[32]; };
struct fw_rsc_vdev_vring { uint32_t da, align, num, notifyid, pa; };
struct fw_rsc_vdev {
    uint32_t type, id, notifyid, dfeatures, gfeatures, config_len;
    uint8_t status, num_of_vrings, reserved[2];
    struct fw_rsc_vdev_vring vring[2];
};
#endif
