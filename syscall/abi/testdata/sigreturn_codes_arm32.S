/*
 * The layout of arch/arm/kernel/sigreturn_codes.S for an EABI kernel
 * (__NR_SYSCALL_BASE 0, __NR_OABI_SYSCALL_BASE 0x900000, __NR_sigreturn 119,
 * __NR_rt_sigreturn 173, SIGFRAME_RC3_OFFSET 756, RT_SIGFRAME_RC3_OFFSET 884,
 * CONFIG_ARM_THUMB), written out here so the assembler can check the words
 * TrampolineCode returns. TestARMSigreturnCodesAssemble assembles it with
 * arm-linux-gnueabihf-gcc and compares .rodata byte for byte.
 */
	.syntax unified
	.section .rodata
	.global sigreturn_codes
sigreturn_codes:
	.org	sigreturn_codes + 0
	.arm
	mov	r7, #119
	swi	#(119 | 0x900000)
	.org	sigreturn_codes + 8
	.thumb
	movs	r7, #119
	swi	#0

	.org	sigreturn_codes + 12
	.arm
	mov	r7, #173
	swi	#(173 | 0x900000)
	.org	sigreturn_codes + 20
	.thumb
	movs	r7, #173
	swi	#0

	.org	sigreturn_codes + 24
	.arm
	ldr	r3, [sp, #756]
	ldmia	r3, {r3, r9}
	bx	r3
	.org	sigreturn_codes + 36
	.thumb
	ldr	r3, [sp, #756]
	ldmia	r3, {r2, r3}
	mov	r9, r3
	bx	r2

	.org	sigreturn_codes + 44
	.arm
	ldr	r3, [sp, #884]
	ldmia	r3, {r3, r9}
	bx	r3
	.org	sigreturn_codes + 56
	.thumb
	ldr	r3, [sp, #884]
	ldmia	r3, {r2, r3}
	mov	r9, r3
	bx	r2

	.space	4
