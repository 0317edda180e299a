"""An accumulation into an array just made by an elementwise operation becomes one sum.

The reverse sweep binds an adjoint at its first contribution and adds the later ones in place:
``k3_bar = d_4 * 2`` at the RK4 update, ``k3_bar += t_bar * h`` three statements later (the ode
eval, per stage). That is a pass writing ``k3_bar`` and a second one reading and writing it
again. When nothing mentions ``k3_bar`` in between and nothing writes what its operation reads,
the operation moves down to the addition, which becomes ``k3_bar = d_4 * 2 + t_bar * h``: the
emitter computes both operands inside one loop.

Conditions, in one block: ``v = op(...)`` is an elementwise operation on arrays (a loop of its
own), the next statement mentioning ``v`` is ``v += e`` (or ``w = v``, the only other mention
of ``v``, and then ``w += e``) with ``e`` not reading ``v``, ``v`` has
no other memory (no view or alias of it exists yet: nothing mentioned it), and no statement in
between writes into memory ``op``'s operands may share, nor that of the operands of the
single-use temporaries it reads (the emitter may compute those where ``op`` now stands).
"""
from __future__ import annotations

from .. import fusion, ir
from .analysis import fusable_leaves, mention_counts, mentioned, mutated, storage_owners, use_counts


def sum_fresh_accumulations(fn: ir.Function) -> None:
    owners = storage_owners(fn, mutated(fn.body))
    mentions = mention_counts(fn.body)
    uses = use_counts(fn.body)
    for block in ir.blocks(fn.body):
        k = 0
        while k < len(block):
            _sink(fn, block, k, owners, mentions, uses)
            k += 1


def _sink(fn: ir.Function, block: list[ir.Stmt], k: int, owners, mentions, uses) -> None:
    made = block[k]
    if not (fusion.is_loop_op(made) and made.prim not in fusion.WRITES):
        return
    v = made.target
    reads = fusable_leaves(block[:k], made, uses)
    if v in reads:
        return
    memory = set().union(*(owners.get(a, {a}) for a in reads))
    alias = None                     # k1_bar = d_4, where d_4 is mentioned nowhere else
    for m in range(k + 1, len(block)):
        st = block[m]
        if v in mentioned(st):
            if (alias is None and isinstance(st, ir.Op) and st.prim == "id" and st.args[0] is v
                    and mentions[v] == 2):
                alias, v = st, st.target
                continue
            if (isinstance(st, ir.Op) and st.prim == "addto" and st.args[0] is v and v not in st.args[1:]
                    and st.args[1].type.rank == v.type.rank):
                moved = ir.Var(fn.fresh(v.name + "_first"), v.type)
                block[m] = ir.Op(st.line, v, "add", [moved, st.args[1]], st.nograd)
                block.insert(m, ir.Op(made.line, moved, made.prim, made.args, made.nograd))
                block[:] = [s for s in block if s is not made and s is not alias]
            return
        for s in ir.walk([st]):
            into = isinstance(s, ir.Op) and s.target is None
            if any(owners.get(w, {w}) & memory if into else w in reads for w in ir.defined(s)):
                return
