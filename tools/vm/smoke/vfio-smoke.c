/*
 * vfio-smoke: the rig's own C check of the guest's VFIO stack, independent of Vfio.NET.
 *
 * Usage: vfio-smoke GROUP DEVICE
 *   GROUP   /dev/vfio/noiommu-N (no-IOMMU group, arm64 rig) or /dev/vfio/N
 *   DEVICE  the device's sysfs name (ff170000.mmc, 0000:00:01.0)
 * The group is what `rig-bind-vfio DEVICE` prints.
 *
 * Opens the container, checks the API version, attaches the group, sets the IOMMU
 * model (VFIO_NOIOMMU_IOMMU for a noiommu group, else VFIO_TYPE1v2_IOMMU and a DMA
 * map/unmap round trip), gets the device fd, prints device/region 0/IRQ 0 info, maps
 * region 0 and prints the SDHCI capabilities (0x40, two 32-bit reads) and host
 * version (0xFE, 16-bit). Output is "key=value" lines; exit 0 only if every step
 * worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef VFIO_NOIOMMU_IOMMU
#define VFIO_NOIOMMU_IOMMU 8
#endif

static int fail(const char *what)
{
	fprintf(stderr, "vfio-smoke: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s GROUP DEVICE\n", argv[0]);
		return 2;
	}
	const char *group_path = argv[1], *device = argv[2];
	int noiommu = strstr(group_path, "noiommu-") != NULL;
	unsigned long iommu_type = noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;

	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		fail("open /dev/vfio/vfio");
	int api = ioctl(container, VFIO_GET_API_VERSION);
	printf("api_version=%d\n", api);
	if (api != VFIO_API_VERSION) {
		fprintf(stderr, "vfio-smoke: unexpected API version %d\n", api);
		return 1;
	}
	int ext = ioctl(container, VFIO_CHECK_EXTENSION, iommu_type);
	printf("iommu_type=%lu extension=%d\n", iommu_type, ext);
	if (ext <= 0) {
		fprintf(stderr, "vfio-smoke: IOMMU type %lu not supported\n", iommu_type);
		return 1;
	}

	int group = open(group_path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		fail(group_path);
	struct vfio_group_status gs = { .argsz = sizeof gs };
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs))
		fail("VFIO_GROUP_GET_STATUS");
	printf("group_flags=0x%x\n", gs.flags);
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio-smoke: group not viable (bind every device in it)\n");
		return 1;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, iommu_type))
		fail("VFIO_SET_IOMMU");

	if (!noiommu) {
		/* A real IOMMU: map one page for DMA and unmap it again. */
		size_t len = 0x10000;
		void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			fail("mmap DMA buffer");
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof map,
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)buf,
			.iova = 0x100000,
			.size = len,
		};
		if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
			fail("VFIO_IOMMU_MAP_DMA");
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof unmap, .iova = map.iova, .size = len,
		};
		if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
			fail("VFIO_IOMMU_UNMAP_DMA");
		printf("dma_map=ok iova=0x%llx size=0x%llx unmapped=0x%llx\n",
		       (unsigned long long)map.iova, (unsigned long long)len,
		       (unsigned long long)unmap.size);
	}

	int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, device);
	if (fd < 0)
		fail("VFIO_GROUP_GET_DEVICE_FD");

	struct vfio_device_info di = { .argsz = sizeof di };
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &di))
		fail("VFIO_DEVICE_GET_INFO");
	printf("device_flags=0x%x%s%s%s num_regions=%u num_irqs=%u\n", di.flags,
	       di.flags & VFIO_DEVICE_FLAGS_PLATFORM ? " platform" : "",
	       di.flags & VFIO_DEVICE_FLAGS_PCI ? " pci" : "",
	       di.flags & VFIO_DEVICE_FLAGS_RESET ? " reset" : "",
	       di.num_regions, di.num_irqs);

	struct vfio_region_info ri = { .argsz = sizeof ri, .index = 0 };
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		fail("VFIO_DEVICE_GET_REGION_INFO 0");
	printf("region0_size=0x%llx region0_offset=0x%llx region0_flags=0x%x%s%s%s\n",
	       (unsigned long long)ri.size, (unsigned long long)ri.offset, ri.flags,
	       ri.flags & VFIO_REGION_INFO_FLAG_READ ? " read" : "",
	       ri.flags & VFIO_REGION_INFO_FLAG_WRITE ? " write" : "",
	       ri.flags & VFIO_REGION_INFO_FLAG_MMAP ? " mmap" : "");

	struct vfio_irq_info ii = { .argsz = sizeof ii, .index = 0 };
	if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &ii))
		fail("VFIO_DEVICE_GET_IRQ_INFO 0");
	printf("irq0_count=%u irq0_flags=0x%x%s%s%s%s\n", ii.count, ii.flags,
	       ii.flags & VFIO_IRQ_INFO_EVENTFD ? " eventfd" : "",
	       ii.flags & VFIO_IRQ_INFO_MASKABLE ? " maskable" : "",
	       ii.flags & VFIO_IRQ_INFO_AUTOMASKED ? " automasked" : "",
	       ii.flags & VFIO_IRQ_INFO_NORESIZE ? " noresize" : "");

	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		fprintf(stderr, "vfio-smoke: region 0 is not mmappable\n");
		return 1;
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t maplen = (ri.size + page - 1) & ~(size_t)(page - 1);
	void *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)ri.offset);
	if (p == MAP_FAILED)
		fail("mmap region 0");
	volatile uint8_t *regs = p;
	uint32_t cap_lo = *(volatile uint32_t *)(regs + 0x40);
	uint32_t cap_hi = *(volatile uint32_t *)(regs + 0x44);
	uint16_t version = *(volatile uint16_t *)(regs + 0xFE);
	printf("sdhci_capabilities=0x%" PRIx64 "\n", ((uint64_t)cap_hi << 32) | cap_lo);
	printf("sdhci_host_version=0x%04x\n", version);

	munmap(p, maplen);
	close(fd);
	close(group);
	close(container);
	printf("vfio-smoke: ok\n");
	return 0;
}
