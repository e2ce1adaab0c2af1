/*
 * make-card-image: writes the rig's SD card image (deterministic known content).
 *
 * Usage: make-card-image OUT SIZE_MIB
 *
 * Recipe (keep tools/vm/README.md in sync; host tests recompute blocks from it):
 *   The image is SIZE_MIB MiB of 512-byte blocks. Block n (the LBA, from 0) is:
 *     bytes   0..31  ASCII header: "VFIO-NET LBA " + n as 8 zero-padded decimal
 *                    digits + 10 spaces + "\n"  (32 bytes, no NUL)
 *     bytes  32..511 120 little-endian 32-bit words from xorshift32:
 *                      x = (uint32)((n + 1) * 0x9E3779B1)     (never 0)
 *                      repeat 120 times:
 *                        x ^= x << 13; x ^= x >> 17; x ^= x << 5;   (uint32)
 *                        emit x as 4 bytes, least significant first
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 512

static void make_block(uint32_t lba, unsigned char *b)
{
	char header[33];
	snprintf(header, sizeof header, "VFIO-NET LBA %08u          \n", lba);
	memcpy(b, header, 32);

	uint32_t x = (lba + 1u) * 0x9E3779B1u;
	for (int i = 0; i < 120; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		unsigned char *p = b + 32 + 4 * i;
		p[0] = (unsigned char)x;
		p[1] = (unsigned char)(x >> 8);
		p[2] = (unsigned char)(x >> 16);
		p[3] = (unsigned char)(x >> 24);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s OUT SIZE_MIB\n", argv[0]);
		return 2;
	}
	long mib = strtol(argv[2], NULL, 10);
	if (mib <= 0 || mib > 4096 || (mib & (mib - 1)) != 0) {
		fprintf(stderr, "SIZE_MIB must be a power of two in 1..4096 (QEMU's SD model wants it)\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	uint32_t blocks = (uint32_t)(mib * 1024 * 1024 / BLOCK);
	unsigned char b[BLOCK];
	for (uint32_t lba = 0; lba < blocks; lba++) {
		make_block(lba, b);
		if (fwrite(b, 1, BLOCK, f) != BLOCK) {
			perror("write");
			return 1;
		}
	}
	if (fclose(f) != 0) {
		perror("close");
		return 1;
	}
	return 0;
}
