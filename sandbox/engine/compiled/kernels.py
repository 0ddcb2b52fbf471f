"""numba kernels for one whole training step on the flat parameter vector.

Importing this module compiles the kernels (or loads them from numba's on-disk cache), so only
:mod:`sandbox.engine.compiled` imports it, and only when the compiled path is wanted.

The maths is the numpy engine's, line for line (``network.py``, ``activations.py``,
``losses.py``, ``optimizers.py``, and the session's guard and step records), written as plain
loops over the flat arrays.  Sums run in index order, so a kernel's result differs from numpy's
(which sums pairwise or in BLAS) by rounding only, and is the same on every call.  No fastmath:
reassociating a sum would make results depend on the compiler's mood.  numpy's error model: a
division by zero gives ±inf or NaN (which the guard then reports) rather than raising, as in numpy.

Layout (as ``ParameterLayout``): ``flat = [W_0, b_0, W_1, b_1, …]`` with ``W_l`` row-major
(n_l, n_{l+1}).  Activations ``a_0 … a_L`` and pre-activations ``z_1 … z_L`` live in two flat
scratch arrays, row-major (batch, n) per layer.

``cfg`` (int64): ``[depth, loss, optimizer, n_0 … n_L, act_0 … act_{L−1}]`` with the codes below.
``hp`` (float64): ``[lr, l1, l2, h0, h1, h2, h3]``: momentum ``h0 = β``; rmsprop ``h0 = ρ,
h1 = ε``; adam ``h0 = β₁, h1 = β₂, h2 = ε, h3 = √(1 − β₂ᵗ)`` and ``lr`` replaced by
``−η/(1 − β₁ᵗ)`` (both folded in by the caller exactly as ``propose`` folds them).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

# Activation codes: the order of ``activations.ACTIVATIONS`` (checked by the caller).
LINEAR, RELU, LEAKY_RELU, ELU, TANH, SIGMOID, SOFTPLUS, SWISH, SINE, SOFTMAX = range(10)
# Loss codes: the order of ``losses.LOSSES``.
MSE, BCE, CROSS_ENTROPY = range(3)
# Optimizer codes: the order of ``optimizers.OPTIMIZERS``.
SGD, MOMENTUM, RMSPROP, ADAM = range(4)
# ``info[0]`` after a step: what the guard found (the order ``state.QUANTITIES`` names them).
OK, BAD_LOSS, BAD_GRADIENT, BAD_STATE, BAD_WEIGHTS = range(5)

LEAKY_RELU_SLOPE = 0.01
ELU_ALPHA = 1.0
LOGE2 = math.log(2.0)
FLOAT_MAX = 1.7976931348623157e308


@njit(cache=True, error_model="numpy")
def logaddexp0(x):
    """log(1 + e^x), exactly as numpy's ``logaddexp(0, x)`` evaluates it (no overflow)."""
    if x == 0.0:
        return LOGE2
    tmp = -x
    if tmp > 0:
        return math.log1p(math.exp(x))
    if tmp <= 0:
        return x + math.log1p(math.exp(tmp))
    return tmp  # NaN


@njit(cache=True, error_model="numpy")
def sigmoid(z):
    """σ(z) = exp(−log(1 + e^(−z))), as ``activations.sigmoid``."""
    return math.exp(-logaddexp0(-z))


@njit(cache=True, error_model="numpy")
def activate(code, z, a, n, m):
    """a = f(z) for the (n, m) block ``z`` (flat, row-major), written into ``a``."""
    size = n * m
    if code == LINEAR:
        for q in range(size):
            a[q] = z[q]
    elif code == RELU:
        for q in range(size):
            v = z[q]
            a[q] = v if not (v <= 0.0) else 0.0  # max(z, 0); NaN stays NaN as np.maximum keeps it
    elif code == LEAKY_RELU:
        for q in range(size):
            v = z[q]
            a[q] = v if v > 0 else LEAKY_RELU_SLOPE * v
    elif code == ELU:
        for q in range(size):
            v = z[q]
            a[q] = v if v > 0 else ELU_ALPHA * math.expm1(min(v, 0.0))
    elif code == TANH:
        for q in range(size):
            a[q] = math.tanh(z[q])
    elif code == SIGMOID:
        for q in range(size):
            a[q] = sigmoid(z[q])
    elif code == SOFTPLUS:
        for q in range(size):
            a[q] = logaddexp0(z[q])
    elif code == SWISH:
        for q in range(size):
            v = z[q]
            a[q] = v * sigmoid(v)
    elif code == SINE:
        for q in range(size):
            a[q] = math.sin(z[q])
    else:  # SOFTMAX, row-wise, shifted by the row max
        for i in range(n):
            base = i * m
            zmax = row_max(z, base, m)
            total = 0.0
            for k in range(m):
                e = math.exp(z[base + k] - zmax)
                a[base + k] = e
                total += e
            for k in range(m):
                a[base + k] = a[base + k] / total


@njit(cache=True, error_model="numpy")
def row_max(z, base, m):
    """max of z[base : base + m], NaN if any entry is NaN (as ndarray.max)."""
    best = z[base]
    for k in range(1, m):
        v = z[base + k]
        if best != best:
            break
        if v > best or v != v:
            best = v
    return best


@njit(cache=True, error_model="numpy")
def backprop(code, z, a, g, n, m):
    """δ_z = δ_a ⊙ f'(z) in place: ``g`` holds ∂J/∂a on entry and ∂J/∂z on return."""
    size = n * m
    if code == LINEAR:
        return  # d/dz z = 1
    if code == RELU:
        for q in range(size):
            g[q] = g[q] * (1.0 if z[q] > 0 else 0.0)  # relu'(z) = 1 if z > 0 else 0
    elif code == LEAKY_RELU:
        for q in range(size):
            g[q] = g[q] * (1.0 if z[q] > 0 else LEAKY_RELU_SLOPE)  # leaky_relu'(z) = 1 if z > 0 else 0.01
    elif code == ELU:
        for q in range(size):
            g[q] = g[q] * (1.0 if z[q] > 0 else a[q] + ELU_ALPHA)  # elu'(z) = 1 if z > 0 else α·e^z = a + α
    elif code == TANH:
        for q in range(size):
            g[q] = g[q] * (1.0 - a[q] * a[q])  # tanh'(z) = 1 − tanh²(z) = 1 − a²
    elif code == SIGMOID:
        for q in range(size):
            g[q] = g[q] * (a[q] * (1.0 - a[q]))  # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)
    elif code == SOFTPLUS:
        for q in range(size):
            g[q] = g[q] * sigmoid(z[q])  # softplus'(z) = σ(z)
    elif code == SWISH:
        for q in range(size):
            s = sigmoid(z[q])
            g[q] = g[q] * (s + a[q] * (1.0 - s))  # swish'(z) = σ(z) + z·σ(z)(1 − σ(z)) = σ + a(1 − σ)
    elif code == SINE:
        for q in range(size):
            g[q] = g[q] * math.cos(z[q])  # sin'(z) = cos(z)
    else:  # SOFTMAX: the Jacobian is diag(a) − a aᵀ per row, so J·g = a ⊙ (g − (g·a))
        for i in range(n):
            base = i * m
            dot = 0.0
            for k in range(m):
                dot += g[base + k] * a[base + k]
            for k in range(m):
                g[base + k] = a[base + k] * (g[base + k] - dot)


@njit(cache=True, error_model="numpy")
def output_loss(loss, act, zL, aL, Y, rows, n, m, g):
    """The mean data loss (1/n) Σ_i ℓ_i, with δ_L = ∂ℓ_i/∂z_L written into ``g`` (as losses.py)."""
    total = 0.0
    if loss == MSE:
        # ℓ = ½ Σ_k (a_k − y_k)²;  ∂ℓ/∂a = a − y, then back through the output activation
        for i in range(n):
            r = rows[i]
            for k in range(m):
                diff = aL[i * m + k] - Y[r, k]
                total += diff * diff
                g[i * m + k] = diff
        backprop(act, zL, aL, g, n, m)
        return 0.5 * total / n
    if loss == BCE:
        # ℓ = Σ_k [log(1 + e^z) − z·y];  ∂ℓ/∂z = σ(z) − y = a − y
        for i in range(n):
            r = rows[i]
            for k in range(m):
                z = zL[i * m + k]
                y = Y[r, k]
                total += logaddexp0(z) - z * y
                g[i * m + k] = aL[i * m + k] - y
        return total / n
    # cross-entropy: ℓ = Σ_k y_k (lse(z) − z_k);  ∂ℓ/∂z_k = a_k Σ_j y_j − y_k
    for i in range(n):
        r = rows[i]
        base = i * m
        zmax = row_max(zL, base, m)
        se = 0.0
        y_sum = 0.0
        for k in range(m):
            se += math.exp(zL[base + k] - zmax)
            y_sum += Y[r, k]
        lse = zmax + math.log(se)
        for k in range(m):
            y = Y[r, k]
            total += y * (lse - zL[base + k])
            g[base + k] = aL[base + k] * y_sum - y
    return total / n


@njit(cache=True, error_model="numpy")
def any_bad(v):
    """Whether v holds a non-finite value."""
    for q in range(v.shape[0]):
        if not math.isfinite(v[q]):
            return True
    return False


@njit(cache=True, error_model="numpy")
def finite_norm(v):
    """‖v‖₂, finite for every finite v (as ``scoring.finite_norm``)."""
    size = v.shape[0]
    squares = 0.0
    for q in range(size):
        squares += v[q] * v[q]
    if math.isfinite(squares):
        return math.sqrt(squares)
    scale = 0.0
    for q in range(size):
        x = abs(v[q])
        if x > scale or x != x:
            scale = x
    if not math.isfinite(scale):
        return math.inf
    squares = 0.0
    for q in range(size):
        x = v[q] / scale
        squares += x * x
    return min(scale * math.sqrt(squares), FLOAT_MAX)


@njit(cache=True, error_model="numpy")
def update_ratio(delta, flat):
    """‖Δ‖/‖W‖ over one weight segment, as ``scoring.update_ratios`` computes it."""
    moved = 0.0
    size = 0.0
    for q in range(delta.shape[0]):
        moved += delta[q] * delta[q]
        size += flat[q] * flat[q]
    if 0.0 < size < math.inf and moved < math.inf:
        return math.sqrt(moved / size)
    # A sum of squares overflowed or underflowed (or the weights are zero): scale first.
    w_scale = 0.0
    d_scale = 0.0
    for q in range(delta.shape[0]):
        w_scale = max(w_scale, abs(flat[q]))
        d_scale = max(d_scale, abs(delta[q]))
    if w_scale == 0:
        return math.nan
    if d_scale == 0:
        return 0.0
    dd = 0.0
    ww = 0.0
    for q in range(delta.shape[0]):
        x = delta[q] / d_scale
        y = flat[q] / w_scale
        dd += x * x
        ww += y * y
    ratio = d_scale / w_scale * (math.sqrt(dd) / math.sqrt(ww))
    if ratio != ratio:
        return math.nan
    return min(ratio, FLOAT_MAX)


# The loops over a layer's units take views that start at index 0: with an offset numba cannot
# tell an index is never negative, checks each for wrap-around, and nothing is vectorised.


@njit(cache=True, error_model="numpy")
def forward_layer(a, W, b, z, n, fin, fout):
    """z_{l+1} = a_l W_l + b_l for the batch: each sum over k in order, then + b."""
    for i in range(n):
        zb = i * fout
        ab = i * fin
        for j in range(fout):
            z[zb + j] = 0.0
        for k in range(fin):
            aik = a[ab + k]
            wk = k * fout
            for j in range(fout):
                z[zb + j] += aik * W[wk + j]
        for j in range(fout):
            z[zb + j] += b[j]


@njit(cache=True, error_model="numpy")
def layer_gradients(a, G, gW, gb, n, fin, fout):
    """∂J/∂W_l = a_lᵀ (δ_{l+1}/n) and ∂J/∂b_l = Σ_i δ_{l+1,i}/n, summed over the batch in order."""
    for q in range(fin * fout):
        gW[q] = 0.0
    for j in range(fout):
        gb[j] = 0.0
    for i in range(n):
        gi = i * fout
        ab = i * fin
        for k in range(fin):
            aik = a[ab + k]
            wk = k * fout
            for j in range(fout):
                gW[wk + j] += aik * G[gi + j]  # ∂J/∂W_l[k, j] += a_l[i, k] · ∂J/∂z_{l+1}[i, j]
        for j in range(fout):
            gb[j] += G[gi + j]  # ∂J/∂b_l[j] += ∂J/∂z_{l+1}[i, j]


@njit(cache=True, error_model="numpy")
def back_through_weights(G, W, WT, GA, n, fin, fout):
    """∂J/∂a_l = ∂J/∂z_{l+1} W_lᵀ.  Through Wᵀ laid out row by row, each sum runs over j in
    order (as a dot product would) while the inner loop runs along contiguous k."""
    for k in range(fin):
        for j in range(fout):
            WT[j * fin + k] = W[k * fout + j]
    for i in range(n):
        gi = i * fout
        ga = i * fin
        for k in range(fin):
            GA[ga + k] = 0.0
        for j in range(fout):
            gij = G[gi + j]
            wj = j * fin
            for k in range(fin):
                GA[ga + k] += gij * WT[wj + k]  # ∂J/∂a_l[i, k] += ∂J/∂z_{l+1}[i, j] · W_l[k, j]


def _train_step(X, Y, rows, flat, buf0, buf1, cfg, hp, new_flat, delta, new_buf0, new_buf1, stats, info):
    """One training step: forward, loss, backward, regularisation, optimizer, guard, records.

    Reads ``X[rows]``, ``Y[rows]``, ``flat`` and the optimizer buffers; writes the proposed
    parameters, update and buffers into ``new_flat``, ``delta``, ``new_buf0``, ``new_buf1``;
    ``stats = [J, data loss, ‖∂J/∂W_l‖ …, ‖ΔW_l‖/‖W_l‖ …]``; ``info = [status, layer, buffer]``
    (status one of OK, BAD_LOSS, BAD_GRADIENT, BAD_STATE, BAD_WEIGHTS; layer and buffer index
    name what went non-finite first, in the guard's order).  Nothing is committed here.
    """
    depth = cfg[0]
    loss = cfg[1]
    opt = cfg[2]
    sizes = cfg[3 : 4 + depth]
    acts = cfg[4 + depth : 4 + 2 * depth]
    n = rows.shape[0]
    lr, l1, l2 = hp[0], hp[1], hp[2]
    info[0] = OK
    info[1] = -1
    info[2] = -1

    # Offsets: W_l at woff[l] (b_l right after it), a_l at aoff[l], z_{l+1} at zoff[l].
    woff = np.empty(depth + 1, np.int64)
    aoff = np.empty(depth + 2, np.int64)
    zoff = np.empty(depth + 1, np.int64)
    woff[0] = 0
    aoff[0] = 0
    zoff[0] = 0
    widest = 1
    for l in range(depth):
        woff[l + 1] = woff[l] + sizes[l] * sizes[l + 1] + sizes[l + 1]
        zoff[l + 1] = zoff[l] + n * sizes[l + 1]
    for l in range(depth + 1):
        aoff[l + 1] = aoff[l] + n * sizes[l]
        widest = max(widest, sizes[l])
    A = np.empty(aoff[depth + 1])
    Z = np.empty(zoff[depth])

    # Forward: a_0 = X[rows];  z_{l+1} = a_l W_l + b_l;  a_{l+1} = f_l(z_{l+1})
    n0 = sizes[0]
    for i in range(n):
        r = rows[i]
        for k in range(n0):
            A[i * n0 + k] = X[r, k]
    for l in range(depth):
        fin = sizes[l]
        fout = sizes[l + 1]
        w0 = woff[l]
        b0 = w0 + fin * fout
        forward_layer(A[aoff[l] : aoff[l + 1]], flat[w0:b0], flat[b0 : b0 + fout], Z[zoff[l] : zoff[l + 1]],
                      n, fin, fout)
        activate(acts[l], Z[zoff[l] : zoff[l + 1]], A[aoff[l + 1] : aoff[l + 2]], n, fout)

    # Loss and δ_L = ∂ℓ/∂z_L (per example), then ∂J/∂z_L = δ_L / n.
    m = sizes[depth]
    G = np.empty(n * widest)
    GA = np.empty(n * widest)
    zL = Z[zoff[depth - 1] : zoff[depth]]
    aL = A[aoff[depth] : aoff[depth + 1]]
    data_loss = output_loss(loss, acts[depth - 1], zL, aL, Y, rows, n, m, G)
    # J = data loss + l1 Σ_l Σ|W_l| + (l2/2) Σ_l Σ W_l²
    objective = data_loss
    if l1 != 0.0:
        penalty = 0.0
        for l in range(depth):
            s = 0.0
            for q in range(woff[l], woff[l] + sizes[l] * sizes[l + 1]):
                s += abs(flat[q])
            penalty += s
        objective += l1 * penalty
    if l2 != 0.0:
        penalty = 0.0
        for l in range(depth):
            s = 0.0
            for q in range(woff[l], woff[l] + sizes[l] * sizes[l + 1]):
                s += flat[q] * flat[q]
            penalty += s
        objective += 0.5 * l2 * penalty
    stats[0] = objective
    stats[1] = data_loss
    if not math.isfinite(objective):
        info[0] = BAD_LOSS
        return
    inv_n = 1.0 / n
    for q in range(n * m):
        G[q] = G[q] * inv_n  # ∂J/∂z_L = δ_L / n

    # Backward, layer by layer from the output.
    grad = np.empty(flat.shape[0])
    largest = 0
    for l in range(depth):
        largest = max(largest, sizes[l] * sizes[l + 1])
    WT = np.empty(largest)
    for l in range(depth - 1, -1, -1):
        fin = sizes[l]
        fout = sizes[l + 1]
        w0 = woff[l]
        b0 = w0 + fin * fout
        layer_gradients(A[aoff[l] : aoff[l + 1]], G, grad[w0:b0], grad[b0 : b0 + fout], n, fin, fout)
        if l:
            # ∂J/∂a_l = ∂J/∂z_{l+1} W_lᵀ, then ∂J/∂z_l = f'(z_l) ⊙ ∂J/∂a_l
            back_through_weights(G, flat[w0:b0], WT, GA, n, fin, fout)
            backprop(acts[l - 1], Z[zoff[l - 1] : zoff[l]], A[aoff[l] : aoff[l + 1]], GA, n, fin)
            G, GA = GA, G
    if l1 != 0.0:
        for l in range(depth):
            for q in range(woff[l], woff[l] + sizes[l] * sizes[l + 1]):
                w = flat[q]
                sign = 1.0 if w > 0 else (-1.0 if w < 0 else (0.0 if w == 0 else w))
                grad[q] = grad[q] + l1 * sign  # d/dW l1|W| = l1·sign(W), sign(0) = 0
    if l2 != 0.0:
        for l in range(depth):
            for q in range(woff[l], woff[l] + sizes[l] * sizes[l + 1]):
                grad[q] = grad[q] + l2 * flat[q]  # d/dW (l2/2) W² = l2·W

    # The optimizer's proposal (optimizers.propose, element by element).
    P = flat.shape[0]
    if opt == SGD:
        for q in range(P):
            d = grad[q] * -lr  # Δp = −η g
            delta[q] = d
            new_flat[q] = flat[q] + d
    elif opt == MOMENTUM:
        beta = hp[3]
        for q in range(P):
            v = beta * buf0[q] + grad[q]  # v ← β v + g
            new_buf0[q] = v
            d = v * -lr  # Δp = −η v
            delta[q] = d
            new_flat[q] = flat[q] + d
    elif opt == RMSPROP:
        rho, eps = hp[3], hp[4]
        for q in range(P):
            g = grad[q]
            s = rho * buf0[q] + (1.0 - rho) * (g * g)  # s ← ρ s + (1 − ρ) g²
            new_buf0[q] = s
            d = g * -lr / (math.sqrt(s) + eps)  # Δp = −η g / (√s + ε)
            delta[q] = d
            new_flat[q] = flat[q] + d
    else:  # ADAM; lr holds −η/(1 − β₁ᵗ) and h3 √(1 − β₂ᵗ)
        b1, b2, eps, sqrt_c2 = hp[3], hp[4], hp[5], hp[6]
        for q in range(P):
            g = grad[q]
            mq = b1 * buf0[q] + (1.0 - b1) * g  # m ← β₁ m + (1 − β₁) g
            vq = b2 * buf1[q] + (1.0 - b2) * (g * g)  # v ← β₂ v + (1 − β₂) g²
            new_buf0[q] = mq
            new_buf1[q] = vq
            d = lr * mq / (math.sqrt(vq) / sqrt_c2 + eps)  # Δp = −η m̂ / (√v̂ + ε)
            delta[q] = d
            new_flat[q] = flat[q] + d

    # The guard, in its order: the gradient (from the output layer down), then each buffer,
    # then the parameters; the first non-finite one is the cause.
    for l in range(depth - 1, -1, -1):
        if any_bad(grad[woff[l] : woff[l + 1]]):
            info[0] = BAD_GRADIENT
            info[1] = l
            return
    n_buffers = 0 if opt == SGD else (2 if opt == ADAM else 1)
    for b in range(n_buffers):
        buf = new_buf0 if b == 0 else new_buf1
        for l in range(depth):
            if any_bad(buf[woff[l] : woff[l + 1]]):
                info[0] = BAD_STATE
                info[1] = l
                info[2] = b
                return
    for l in range(depth):
        if any_bad(new_flat[woff[l] : woff[l + 1]]):
            info[0] = BAD_WEIGHTS
            info[1] = l
            return

    # What the step records: ‖∂J/∂W_l‖ and ‖ΔW_l‖/‖W_l‖ (W before the step) per layer.
    for l in range(depth):
        stop = woff[l] + sizes[l] * sizes[l + 1]
        stats[2 + l] = finite_norm(grad[woff[l] : stop])
        stats[2 + depth + l] = update_ratio(delta[woff[l] : stop], flat[woff[l] : stop])


_ro2 = types.Array(types.float64, 2, "C", readonly=True)
_ro1 = types.Array(types.float64, 1, "C", readonly=True)
_rows = types.Array(types.int64, 1, "C", readonly=True)
_cfg = types.Array(types.int64, 1, "C", readonly=True)
_out = types.float64[::1]
_info = types.int64[::1]

#: The one signature: every input read-only (the run's arrays are), every output writable.
SIGNATURE = types.void(_ro2, _ro2, _rows, _ro1, _ro1, _ro1, _cfg, _ro1, _out, _out, _out, _out, _out, _info)

train_step = njit(SIGNATURE, cache=True, error_model="numpy")(_train_step)
