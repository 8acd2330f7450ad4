// A Thumb IT block split by a page boundary: the block before the boundary
// ends inside the IT block, and the next one, on a page not fetched before,
// must start with the IT state. (The emulator's TLB fill for that first
// fetch, made while the next block is looked up, once cleared the IT state
// as if a load had missed inside a block: the conditional instruction on
// the new page then ran unconditionally.)
// xemu-test: arch=armhf
#include <stdio.h>

int straddle(int a);

// straddle(a) returns a == 0 ? 1 : 0, with "it eq" as the last halfword of
// a page and its "moveq" the first of the next, each call on its own pair of
// pages (so that each first fetch of the second page misses).
__asm__(".syntax unified\n"
        ".section .text.itpage,\"ax\",%progbits\n"
        ".balign 4096\n"
        ".thumb\n"
        ".global straddle\n"
        ".type straddle, %function\n"
        ".thumb_func\n"
        "straddle:\n"
        "  b.w 1f\n"
        "  .space 4096 - 4 - 8\n"
        "1:\n"
        "  movs r1, #0\n"
        "  cmp r0, #0\n"
        "  nop\n"
        "  it eq\n"
        "  moveq r1, #1\n"
        "  mov r0, r1\n"
        "  bx lr\n"
        ".balign 4096\n"
        ".text\n");

int main(void) {
	int failed = 0;
	// First with the condition false: a lost IT state makes it 1.
	int r = straddle(1);
	printf("straddle(1) = %d (want 0)\n", r);
	failed |= r != 0;
	r = straddle(0);
	printf("straddle(0) = %d (want 1)\n", r);
	failed |= r != 1;
	r = straddle(7);
	printf("straddle(7) = %d (want 0)\n", r);
	failed |= r != 0;
	return failed;
}
