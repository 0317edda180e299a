"""The nearest-centroid search and k-means programs the loop-nest tests share: the loop shapes
unroll-and-jam and the lane layout are for (a float recurrence in an inner loop, lanes reading
adjacent rows of a matrix)."""

SEARCH_PROGRAMS = """
def nearest(points: float[n, d], centroids: float[k, d]) -> float:
    total = 0.0
    for i in range(n):
        best = 0
        best_dist = 0.0
        for j in range(k):
            dist = 0.0
            for e in range(d):
                delta = points[i, e] - centroids[j, e]
                dist += delta * delta
            if j == 0:
                best_dist = dist
            elif dist < best_dist:
                best = j
                best_dist = dist
        total += 1000.0 * float(best) + best_dist
    return total

def kmeans(points: float[n, d], centroids: float[k, d]) -> float:
    with no_grad:
        chosen = zeros(n)
        for i in range(n):
            best = 0
            best_dist = 0.0
            for j in range(k):
                dist = 0.0
                for e in range(d):
                    delta = points[i, e] - centroids[j, e]
                    dist += delta * delta
                if j == 0:
                    best_dist = dist
                elif dist < best_dist:
                    best = j
                    best_dist = dist
            chosen[i] = float(best)
    total = 0.0
    for p in range(n):
        b = int(chosen[p])
        for f in range(d):
            diff = points[p, f] - centroids[b, f]
            total += diff * diff
    return total
"""
