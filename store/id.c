/* id.c — hex conversion of blob ids. */
#include "store/id.h"

#include <errno.h>

void id_to_hex(const blob_id *id, char out[ID_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < ID_BYTES; i++) {
		out[2 * i] = digits[id->b[i] >> 4];
		out[2 * i + 1] = digits[id->b[i] & 0xf];
	}
	out[ID_HEX_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int id_from_hex(const char *hex, blob_id *ret_id)
{
	blob_id id;
	for (size_t i = 0; i < ID_BYTES; i++) {
		int hi = hexval(hex[2 * i]);
		int lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		id.b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[ID_HEX_LEN] != '\0')
		return -EINVAL;
	*ret_id = id;
	return 0;
}
