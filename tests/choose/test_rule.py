"""The choice rule: the simplest candidate within a tolerance of the best."""

from discover.choose._rule import chosen_index


def test_choice_prefers_fewest_constants_then_score_with_ties_to_the_simplest():
    # ordered by complexity: c*y (1 constant), c*x*y (1), c*x*y + d (2); all within 1.5x of the best
    scores, constants = [0.0134, 0.0115, 0.0100], [1, 1, 2]
    assert chosen_index(scores, 1.5, 1e-4) == 0  # node count alone: the simplest
    assert chosen_index(scores, 1.5, 1e-4, constants) == 1  # at equal freedom the better fit
    # a difference below the floor is a tie: the simpler expression stays
    assert chosen_index([5.5e-5, 1.0e-5, 2e-6], 1.5, 1e-4, [2, 2, 6]) == 0
    # outside the tolerance, more constants are needed
    assert chosen_index([0.05, 0.04, 0.01], 1.5, 1e-4, [1, 1, 2]) == 2
