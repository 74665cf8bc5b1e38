/* SPDX-License-Identifier: MIT */
/*
 * Raw APDU rate through pcscd + vpcd + dmsc-vuicc: the sequence the BIP
 * proxy repeats per chunk (ENVELOPE data available, FETCH of the 252-byte
 * command the card announces, TERMINAL RESPONSE carrying 237 bytes), in a
 * tight loop with no daemon in between.
 * Usage: apdu_rate READER ITERATIONS   (PCSCLITE_CSOCK_NAME selects pcscd)
 * Prints "raw: N APDUs in S s = R APDU/s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const unsigned char env[] = {
		0x80, 0xC2, 0x00, 0x00, 0x10, 0xD6, 0x0E, 0x99, 0x01, 0x09,
		0x82, 0x02, 0x82, 0x81, 0xB8, 0x02, 0x81, 0x00, 0xB7, 0x01, 0xFF,
	};
	unsigned char fetch[] = { 0x80, 0x12, 0x00, 0x00, 0x0C };
	unsigned char tr[5 + 255], resp[258];
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto, n;
	long iters;
	double t0, t;
	LONG rv;

	if (argc != 3 || (iters = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: apdu_rate READER ITERATIONS\n");
		return 2;
	}
	/* TERMINAL RESPONSE to RECEIVE DATA with 237 bytes: 255 bytes */
	memcpy(tr, (const unsigned char[]){ 0x80, 0x14, 0x00, 0x00, 0xFF,
		0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x82, 0x81,
		0x83, 0x01, 0x00, 0xB6, 0x81, 0xED }, 20);
	memset(tr + 20, 0x55, 237);
	memcpy(tr + 257, (const unsigned char[]){ 0xB7, 0x01, 0xFF }, 3);
	tr[4] = 255;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv == SCARD_S_SUCCESS)
		rv = SCardConnect(ctx, argv[1], SCARD_SHARE_SHARED,
				  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h, &proto);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "apdu_rate: %s\n", pcsc_stringify_error(rv));
		return 1;
	}
	const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ?
		SCARD_PCI_T0 : SCARD_PCI_T1;
	t0 = now();
	for (long i = 0; i < iters; i++) {
		n = sizeof(resp);
		SCardTransmit(h, pci, env, sizeof(env), NULL, resp, &n);
		/* fetch what the card announced with 91 XX */
		if (n >= 2 && resp[n - 2] == 0x91)
			fetch[4] = resp[n - 1];
		n = sizeof(resp);
		SCardTransmit(h, pci, fetch, sizeof(fetch), NULL, resp, &n);
		n = sizeof(resp);
		rv = SCardTransmit(h, pci, tr, 5 + 255, NULL, resp, &n);
		if (rv != SCARD_S_SUCCESS) {
			fprintf(stderr, "apdu_rate: %s\n", pcsc_stringify_error(rv));
			return 1;
		}
	}
	t = now() - t0;
	printf("raw: %ld APDUs in %.3f s = %.0f APDU/s\n", 3 * iters, t,
	       3.0 * (double)iters / t);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return 0;
}
