"""Pure painting operations: exact class ids, no antialiasing, the right pixels."""
import numpy as np

from gauguin_app.painting import flood_fill, line_points, polygon_fill, stroke_segment


def apply(labels, region, value):
    labels[region.slices][region.mask] = value
    return labels


def test_brush_dab_is_a_hard_disk_of_the_brush_diameter():
    labels = apply(np.zeros((41, 41), np.uint8), stroke_segment((41, 41), (20, 20), (20, 20), 11), 7)
    assert set(np.unique(labels)) == {0, 7}
    assert labels[20, 15] == 7 and labels[20, 25] == 7      # radius 5.5 reaches 5 pixels out
    assert labels[20, 14] == 0 and labels[20, 26] == 0
    assert labels[17, 16] == 7 and labels[16, 16] == 0      # round, not square


def test_stroke_segment_covers_the_whole_path_and_clips_at_the_border():
    labels = apply(np.zeros((20, 30), np.uint8), stroke_segment((20, 30), (-5, 10), (40, 10), 3), 2)
    assert (labels[10] == 2).all() and (labels[9] == 2).all() and (labels[11] == 2).all()
    assert (labels[8] == 0).all()


def test_one_pixel_brush_leaves_no_gaps_on_a_diagonal():
    labels = apply(np.zeros((50, 50), np.uint8), stroke_segment((50, 50), (0, 0), (49, 30), 1), 1)
    assert labels.sum() >= 50
    rows = np.flatnonzero(labels.any(axis=1))
    assert rows.min() == 0 and rows.max() == 30 and len(rows) == 31


def test_bresenham_includes_both_ends():
    ys, xs = line_points((2, 3), (7, 5))
    assert (xs[0], ys[0]) == (2, 3) and (xs[-1], ys[-1]) == (7, 5)
    assert len(xs) == 6


def test_flood_fill_is_contiguous_only():
    labels = np.zeros((10, 10), np.uint8)
    labels[:, 5] = 3                     # a wall splits the map
    region = flood_fill(labels, (1, 1))
    out = apply(labels.copy(), region, 9)
    assert (out[:, :5] == 9).all()
    assert (out[:, 5] == 3).all() and (out[:, 6:] == 0).all()


def test_flood_fill_follows_a_winding_region():
    labels = np.ones((9, 9), np.uint8)
    labels[1:8:2, :] = 0                 # rows 1, 3, 5, 7 of class 0 ...
    labels[2, 8] = labels[4, 0] = labels[6, 8] = 0   # ... joined into one snake at alternating ends
    out = apply(labels.copy(), flood_fill(labels, (0, 1)), 5)
    assert (out[labels == 1] == 1).all()
    assert (out[labels == 0] == 5).all()


def test_flood_fill_1024_fills_the_whole_connected_region():
    """On a 1024x1024 map with random walls: the fill holds the seed, only its class, and is closed (no pixel of
    that class outside it touches it), so it is the seed's whole 4-connected region."""
    rng = np.random.default_rng(0)
    labels = (rng.random((1024, 1024)) < 0.3).astype(np.uint8)
    y, x = (int(v) for v in np.argwhere(labels == 0)[0])
    region = flood_fill(labels, (x, y))
    mask = np.zeros(labels.shape, bool)
    mask[region.slices] = region.mask
    assert mask[y, x] and (labels[mask] == 0).all()
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    assert not (grown & ~mask & (labels == 0)).any()
    whole = flood_fill(np.zeros((1024, 1024), np.uint8), (500, 500))
    assert whole.mask.all() and whole.mask.shape == (1024, 1024)


def test_polygon_fill_fills_inside_and_edges():
    square = [(2, 2), (12, 2), (12, 12), (2, 12)]
    out = apply(np.zeros((16, 16), np.uint8), polygon_fill((16, 16), square), 4)
    assert (out[2:13, 2:13] == 4).all()
    assert out[1].sum() == 0 and out[13].sum() == 0 and out[:, 13].sum() == 0


def test_polygon_fill_triangle_and_concave_shape():
    tri = apply(np.zeros((20, 20), np.uint8), polygon_fill((20, 20), [(0, 0), (19, 0), (0, 19)]), 1)
    assert tri[1, 1] == 1 and tri[18, 18] == 0 and tri[15, 2] == 1
    u = [(0, 0), (4, 0), (4, 10), (14, 10), (14, 0), (18, 0), (18, 18), (0, 18)]
    out = apply(np.zeros((20, 20), np.uint8), polygon_fill((20, 20), u), 1)
    assert out[5, 9] == 0 and out[5, 2] == 1 and out[15, 9] == 1


def test_shapes_fill_rectangles_and_ellipses_inside_their_corners():
    from gauguin_app.painting import constrain_square, shape_fill
    rect = apply(np.zeros((20, 30), np.uint8), shape_fill((20, 30), (25, 15), (5, 3), "rectangle"), 2)
    assert (rect[3:16, 5:26] == 2).all() and rect.sum() == 2 * 13 * 21
    ell = apply(np.zeros((21, 21), np.uint8), shape_fill((21, 21), (0, 0), (20, 20), "ellipse"), 1)
    assert ell[10, 0] == ell[10, 20] == ell[0, 10] == ell[20, 10] == 1 and ell[10, 10] == 1
    assert ell[0, 0] == ell[20, 20] == 0
    clipped = shape_fill((10, 10), (-5, -5), (4, 4), "rectangle")
    assert (clipped.y0, clipped.y1, clipped.x0, clipped.x1) == (0, 5, 0, 5)
    assert constrain_square((2, 2), (10, 5)) == (10, 10) and constrain_square((10, 10), (4, 8)) == (4, 4)
