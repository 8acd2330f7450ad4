// The ARM (EABI, A32) program `xemu binfmt status` executes through the
// kernel: it writes "xemu probe: arm ok" and exits 0. Built by gen.sh.
	.arch	armv5te
	.arm
	.text
	.globl	_start
_start:
	mov	r0, #1			// stdout
	adr	r1, msg
	mov	r2, #(end - msg)
	mov	r7, #4			// __NR_write (asm/unistd-eabi.h)
	svc	#0
	mov	r0, #0
	mov	r7, #1			// __NR_exit
	svc	#0
msg:	.ascii	"xemu probe: arm ok\n"
end:
