"""Full screens: the queue, one incident's detail, its diagnosis notes and timeline, the wall board."""
