// The AArch64 program `xemu binfmt status` executes through the kernel:
// it writes "xemu probe: aarch64 ok" and exits 0. Built by gen.sh.
	.text
	.globl	_start
_start:
	mov	x0, #1			// stdout
	adr	x1, msg
	mov	x2, #(end - msg)
	mov	x8, #64			// __NR_write (asm-generic/unistd.h)
	svc	#0
	mov	x0, #0
	mov	x8, #93			// __NR_exit
	svc	#0
msg:	.ascii	"xemu probe: aarch64 ok\n"
end:
