/* chunker.c — FastCDC cut-point search (see chunker.h).
 *
 * Gear hash: h = (h << 1) + gear[byte].  After 64 bytes a hash no longer
 * depends on older bytes, so it is a rolling hash over a 64-byte window
 * with one shift and one add per byte.  Bit k of h depends on the last
 * k + 1 bytes only, so the masks test the top bits, which see the whole
 * window.
 *
 * Normalized chunking (FastCDC, level 2): before the average size a cut
 * needs 18 zero bits (rare), after it only 14 (frequent).  That squeezes
 * the size distribution towards the average without hurting dedup.
 */
#include "store/chunker.h"

#include <string.h>

/* Top 18 / top 14 bits: 2 bits stricter / looser than the 16 bits of a
 * 64 KiB average. */
#define MASK_STRICT (~0ull << (64 - 18))
#define MASK_LOOSE (~0ull << (64 - 14))

/* splitmix64 from the seed 0x636b707466736763 ("ckptfsgc"), 256 outputs.
 * Never change it: the cut points, and so deduplication against existing
 * repositories, depend on every value. */
static const uint64_t gear[256] = {
	0x2b390ef852b450feull, 0x94128675efd757a8ull, 0x13a9cd3731c29a5cull,
	0x6a5d4b2d3a03f074ull, 0x5a3bd0e3947a741cull, 0xf3f51cfe12fc8854ull,
	0x2f4dfe732b821616ull, 0x34b896366214eb36ull, 0x5037e9a6f8d21975ull,
	0xf4ea94bd2b4fa50bull, 0x4dbf539354a5f5d1ull, 0x7e1af66f80a6d909ull,
	0x051f6ff1eaccfbfcull, 0xf3a11d4bfbb48207ull, 0x8fdf06978752d881ull,
	0x0f9f6f17e179a3d5ull, 0x1ef5d8aa4e2c0876ull, 0x1cdd49550ea53fccull,
	0x90e1811c32283d91ull, 0xc8208d9c0df96681ull, 0x766fc8849cf6fb3aull,
	0xc565f5fd3bbcb23full, 0x6aa73a493c6ddcffull, 0xcad9677e09cf549cull,
	0x825116bac63a5d08ull, 0xfc07243d7617e64cull, 0xb1ee06d284f999c7ull,
	0x252246eb20d4df6cull, 0x8b7553d00ededc83ull, 0x586cb98197aacdf9ull,
	0x628533e6377f0b89ull, 0x30b54ce652751a81ull, 0x877aeb7348733012ull,
	0xaba044cd00b34637ull, 0xbcb5c1bb08b05ff7ull, 0xabfd6b55fa8cb9d5ull,
	0xb25b4b6b99e27539ull, 0x55dcb7ad6bfc3370ull, 0x56b07426dcbaece0ull,
	0x9f0a814fee593edaull, 0x979441b3a4263f4eull, 0x5d049de7aa8a70f6ull,
	0x7e54e43296db67f3ull, 0x390ab256580482c8ull, 0x85263abe1ea332f3ull,
	0xf5825f833adb6304ull, 0x145549b7e8b507d6ull, 0xb465ce285f15ad69ull,
	0x1a79ab4327ad16e7ull, 0xf4e634f03189f2ecull, 0xee113e63f0856845ull,
	0x446ca9db7d34d296ull, 0xbfef62e4d6f98915ull, 0x6a2cea863ba6ee18ull,
	0x47e16e7c2d6a88ebull, 0xd8c3cd95aa3ae6f6ull, 0xe7d87485ae4bfcb7ull,
	0x03464a58b72ea64aull, 0xada11c0dc11eba01ull, 0x32131b59f7c7993full,
	0xd192b30319157acfull, 0x63d3e50d4a40463aull, 0x619a17aa5dbbcaa8ull,
	0xad6d9cd835af2f48ull, 0x5853a8bb6d087e48ull, 0xbc25011079b82f9bull,
	0x498e2104e944f4dcull, 0x989c062a2426655aull, 0xa81e43c9c263423bull,
	0xd021e4006a019a77ull, 0xd541453bb85064e8ull, 0x081c4c6c4b6779e7ull,
	0x644afd662f4d3b77ull, 0x86570dab18c9c0fcull, 0x7e906fc86b4417a0ull,
	0x74878d022e2f5d8cull, 0x0750d88dd14a5c32ull, 0x197ac16a2ce0c854ull,
	0x066f68a8e1008314ull, 0x54f53b35d1be346bull, 0xe8e780101dcbeb12ull,
	0x32888b6a57482580ull, 0x46137256e7dc5816ull, 0x488fcf0da90358d5ull,
	0x3829cd6a486adbb1ull, 0x4a3616795cfc270dull, 0xcc753e2b06acbc4dull,
	0xc2724b3e6be6dcedull, 0xaab9a50bedfb75acull, 0xa603bfa13fb8695eull,
	0x2cf4e1f1c8a172caull, 0x68fafde10f6ad301ull, 0x94eaaa98bf6cd42dull,
	0x12c54bbaec4b6d01ull, 0x16071ba83c9679c6ull, 0x02a130a73d1dd860ull,
	0x4365e29d3c3c427full, 0x4d8caeb0c00b3942ull, 0x6de1cf096d99b46dull,
	0xbdbbc45c09547f1eull, 0x94c5f0578021da19ull, 0x791d486faa265dccull,
	0x2bd843bf5e5f4833ull, 0x17d48402c38f5b62ull, 0xdc397e91e1624584ull,
	0x100aa21ebd407c1eull, 0x9755164d1e15320aull, 0xecf304c989516044ull,
	0x566f4da8b9712cf1ull, 0xc4c282a620ae48d4ull, 0xf0d6034c23729ccbull,
	0x2f3e2ff29d4ba911ull, 0x18fa269c9ce25667ull, 0x0077665e13134817ull,
	0xc26b7ecf7ccf858cull, 0x9e28f91de2b1aec5ull, 0x6e3d9a40ae9c90ceull,
	0x9f70c1ec59459d49ull, 0x98ae1537aaa6a258ull, 0xbc26b5967cb7eea6ull,
	0xa28261411bb17045ull, 0x3007c76da8541fddull, 0xbe0da14305043099ull,
	0xbd23467f6cb74d30ull, 0x2e178a85fdc4accfull, 0xb987e261ea23c92aull,
	0x832b3f6ed15724e6ull, 0xadec44825ebfcee0ull, 0xc1a7214ecac5aa25ull,
	0xb47619313b4737f6ull, 0x5eb1496171dad103ull, 0x5e00ade6414ea030ull,
	0x1e40f8dc16595e76ull, 0xfe3679454f51bae1ull, 0x2326c02e89fa1f99ull,
	0xfe638546311408e8ull, 0x1a52f8638e2a5207ull, 0xb6ba0fb3bde9a9d1ull,
	0xa4176db3fd42d8fbull, 0x02a498823aa4a6bcull, 0xfa464994cfce6153ull,
	0xb36efa841b84d803ull, 0x3848e94f5cb4e26dull, 0xf2845bf6350780fdull,
	0x98c8092421049038ull, 0x1c00f0c950afada3ull, 0x7f7110a39a692432ull,
	0x742421be355f775eull, 0x22f9d9fc71bbe18cull, 0xe1e171df10bbad3full,
	0x974bf051fc8eea5full, 0xc94378c584b12543ull, 0x91916be212b594cbull,
	0xe0b3a1550578756dull, 0xb6c021a880f89d18ull, 0xaa4e11c2a838033cull,
	0x4ca2240f6096cbc4ull, 0x356d78117684f152ull, 0xa806b7ee942b7548ull,
	0xcdd286d6adc55c07ull, 0x78050550c56647e5ull, 0xcc23e895ad0169c1ull,
	0xeb06dd214527f116ull, 0x7fc8829d445b6b39ull, 0xf7af1f46704095d9ull,
	0x5be21c1be8d22625ull, 0xc3261a41b0fadcc3ull, 0xc72f3de7bc58320aull,
	0xa211ef27506f7b18ull, 0x8a8179b9026b6ad3ull, 0xab7ac4a7b4807882ull,
	0xba57e5eedd807fb0ull, 0x46e732eacdcbb64cull, 0x7ff939e94145becaull,
	0xd61992d0ffd3f857ull, 0x12aa3d8311f4b4a1ull, 0xa50fc59e82a44af0ull,
	0x557f30726eba718eull, 0x338c720078d51910ull, 0x603cdb1afe3288e7ull,
	0x338ee91de59e2a1aull, 0xc097dc9f5c730af2ull, 0x156cb3d54d1bd40aull,
	0x9714d45211771f5cull, 0x9c4766fe10db2ba4ull, 0xadec691933fa326bull,
	0x6d213141071a6f5aull, 0x0e795de9cbb740c2ull, 0xf59423dc2c4f08b4ull,
	0xb357d5b5f0fcf172ull, 0x47669e72d1a4f73full, 0xb10b858e35c369bfull,
	0xc1503253d3eea898ull, 0xc40acfa3f36a5988ull, 0x403654f47b036832ull,
	0x7c9cd2f309489bd0ull, 0xd60c9277bae2db57ull, 0x92f16e985a41400dull,
	0xdb596e9896e6b24dull, 0x74707c603ca3ddeaull, 0xe49590c0219d318full,
	0xc5956453d684e129ull, 0x0b7cb36b1d715483ull, 0xba7ab5307e34a487ull,
	0x6e67937aadb9f95aull, 0xfabd873f57a6f2beull, 0xc04f734571d9c265ull,
	0x994f9d194a72195dull, 0x474389e1d216820cull, 0xbde6e0b0d4362e89ull,
	0x4d74ea35bfa9fd98ull, 0xd83954787388b048ull, 0xb9054a189c0ad7a9ull,
	0x91f663c5c45e1fe9ull, 0xfe5ffff0b988da7bull, 0x6e278326ee5cf94bull,
	0xba924b3a460654caull, 0xe96c89f5998a5c84ull, 0x7c9de88918376771ull,
	0x901011154d898d74ull, 0x594235dc880a72dfull, 0xe701b76ffe45735eull,
	0x4bffa40336579f38ull, 0xed738d04cc50b1dfull, 0x314d5fd130a52343ull,
	0x353f7865e0d1dc25ull, 0xeaaf70f00278cbedull, 0x23f5bd533cf89245ull,
	0x2f0be15d2f8ac7a6ull, 0x1a20f5ce32434473ull, 0xa567b8e8b8f1e82bull,
	0xdc6de690553dd7e3ull, 0x48670eaa4ae06ae4ull, 0xa3bec00be5c605bbull,
	0x186a8e3e4540e9acull, 0xf6beb6f7b1daa298ull, 0xdb4ada950f4077eeull,
	0x258bc3e346c8df95ull, 0x2d4c3252673becd5ull, 0xc6da302aa00cbf77ull,
	0x209a6918ab9ad0ffull, 0x93e31010a8f4cfd5ull, 0xabbfc1ada2584ddbull,
	0x1460364140724ad5ull, 0x1e4ada5a4ee864e0ull, 0x031effcfd5a771faull,
	0x2faa8e101d15262cull, 0x3a263286b70231ecull, 0x6bbde7cdf80b6c8bull,
	0x58030af92e566449ull, 0xb13a029815a116a0ull, 0x0e0915f302275498ull,
	0xe45860d533fb5267ull, 0x5ca276a4ad637523ull, 0x17b39f33a3c0e259ull,
	0x0ca026a8d251700full,
};

size_t chunker_cut(const uint8_t *buf, size_t len)
{
	if (len <= CHUNKER_MIN)
		return len;
	size_t end = len < CHUNKER_MAX ? len : CHUNKER_MAX;
	size_t normal = end < CHUNKER_AVG ? end : CHUNKER_AVG;
	uint64_t h = 0;
	size_t i = CHUNKER_MIN;

	/* Bytes before the minimum cannot end a chunk: skip hashing them.
	 * The first 64 hashed bytes just fill the window. */
	for (; i < normal; i++) {
		h = (h << 1) + gear[buf[i]];
		if (!(h & MASK_STRICT))
			return i + 1;
	}
	for (; i < end; i++) {
		h = (h << 1) + gear[buf[i]];
		if (!(h & MASK_LOOSE))
			return i + 1;
	}
	return end;
}

size_t chunker_sqlite_unit(const uint8_t *head, size_t len)
{
	static const char magic[16] = "SQLite format 3";
	if (len < 100 || memcmp(head, magic, sizeof magic) != 0)
		return 0;
	uint32_t page = (uint32_t)head[16] << 8 | head[17];
	if (page == 1)
		page = 65536;
	/* A power of two from 512 to 65536, or it is not a database header. */
	if (page < 512 || page > 65536 || (page & (page - 1)))
		return 0;
	return page < CHUNKER_SQLITE_MIN ? CHUNKER_SQLITE_MIN : page;
}
