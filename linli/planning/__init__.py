"""Planning: plan indicators, walking networks, accessibility and where to build next (issue #8)."""
