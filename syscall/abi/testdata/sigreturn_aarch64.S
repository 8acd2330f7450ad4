/*
 * arch/arm64/kernel/vdso/sigreturn.S without its CFI: the nop the vDSO puts
 * before __kernel_rt_sigreturn, then mov x8, #__NR_rt_sigreturn (139);
 * svc #0. TestAArch64TrampolineAssembles compares .text with TrampolineCode.
 */
	.text
	nop
__kernel_rt_sigreturn:
	mov	x8, #139
	svc	#0
