// interp: a switch-dispatched bytecode interpreter (a register machine) running
// a program of nested loops with data-dependent branches. Branchy: one indirect
// jump per bytecode, and the guest's branches are unpredictable from the host's
// point of view. Argument: outer iterations.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum op { LOADI, ADD, SUB, MUL, AND, XOR, SHR, ADDI, JNZ, JLT, JODD, MOD, HALT };

struct insn {
  uint8_t op, a, b, c;
  int32_t imm;
};

static int64_t run(const struct insn *code, int64_t *r) {
  const struct insn *pc = code;
  for (;;) {
    const struct insn *i = pc++;
    switch (i->op) {
    case LOADI:
      r[i->a] = i->imm;
      break;
    case ADD:
      r[i->a] = r[i->b] + r[i->c];
      break;
    case SUB:
      r[i->a] = r[i->b] - r[i->c];
      break;
    case MUL:
      r[i->a] = r[i->b] * r[i->c];
      break;
    case AND:
      r[i->a] = r[i->b] & r[i->c];
      break;
    case XOR:
      r[i->a] = r[i->b] ^ r[i->c];
      break;
    case SHR:
      r[i->a] = (int64_t)((uint64_t)r[i->b] >> i->imm);
      break;
    case ADDI:
      r[i->a] = r[i->b] + i->imm;
      break;
    case JNZ:
      if (r[i->a])
        pc = code + i->imm;
      break;
    case JLT:
      if (r[i->a] < r[i->b])
        pc = code + i->imm;
      break;
    case JODD:
      if (r[i->a] & 1)
        pc = code + i->imm;
      break;
    case MOD:
      r[i->a] = r[i->c] ? r[i->b] % r[i->c] : 0;
      break;
    case HALT:
      return r[0];
    }
  }
}

int main(int argc, char **argv) {
  int32_t outer = argc > 1 ? atoi(argv[1]) : 20000;
  // r0 accumulator, r1 outer counter, r2 x, r3 steps, r4 tmp, r5 limit,
  // r6 const 3, r7 const 1, r8 const 1000003.
  // for (r1 = outer; r1; r1--) {
  //   x = r1 + acc&255 + 1; steps = 0
  //   while (x > 1 && steps < limit) { x = odd ? 3x+1 : x>>1; steps++ }   // Collatz
  //   acc = (acc * 31 + steps ^ x) % 1000003
  // }
  struct insn prog[] = {
      /* 0 */ {LOADI, 0, 0, 0, 0},
      /* 1 */ {LOADI, 1, 0, 0, outer},
      /* 2 */ {LOADI, 5, 0, 0, 400},
      /* 3 */ {LOADI, 6, 0, 0, 3},
      /* 4 */ {LOADI, 7, 0, 0, 1},
      /* 5 */ {LOADI, 8, 0, 0, 1000003},
      /* 6 outer: */ {LOADI, 4, 0, 0, 255},
      /* 7 */ {AND, 4, 0, 4, 0},
      /* 8 */ {ADD, 2, 1, 4, 0},
      /* 9 */ {ADDI, 2, 2, 0, 1},
      /* 10 */ {LOADI, 3, 0, 0, 0},
      /* 11 loop: */ {JLT, 7, 2, 0, 13},      // 1 < x: keep going
      /* 12 */ {JNZ, 7, 0, 0, 19},            // else done
      /* 13 */ {JLT, 3, 5, 0, 15},            // steps < limit
      /* 14 */ {JNZ, 7, 0, 0, 19},
      /* 15 */ {JODD, 2, 0, 0, 22},
      /* 16 */ {SHR, 2, 2, 0, 1},
      /* 17 */ {ADDI, 3, 3, 0, 1},
      /* 18 */ {JNZ, 7, 0, 0, 11},
      /* 19 done: */ {JNZ, 7, 0, 0, 25},
      /* 20 */ {HALT, 0, 0, 0, 0},
      /* 21 */ {HALT, 0, 0, 0, 0},
      /* 22 odd: */ {MUL, 2, 2, 6, 0},
      /* 23 */ {ADDI, 2, 2, 0, 1},
      /* 24 */ {JNZ, 7, 0, 0, 17},
      /* 25 */ {LOADI, 4, 0, 0, 31},
      /* 26 */ {MUL, 0, 0, 4, 0},
      /* 27 */ {XOR, 4, 3, 2, 0},
      /* 28 */ {ADD, 0, 0, 4, 0},
      /* 29 */ {MOD, 0, 0, 8, 0},
      /* 30 */ {SUB, 1, 1, 7, 0},
      /* 31 */ {JNZ, 1, 0, 0, 6},
      /* 32 */ {HALT, 0, 0, 0, 0},
  };
  int64_t regs[16] = {0};
  int64_t acc = run(prog, regs);
  printf("outer %d result %lld\n", outer, (long long)acc);
  return 0;
}
