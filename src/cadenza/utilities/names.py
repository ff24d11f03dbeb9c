"""Readable names for flow runs, such as ``amber-heron``."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber azure bold brave bright brisk calm clever cobalt coral crimson curious daring "
    "dashing eager electric emerald fearless fiery gentle golden grand happy hazel honest "
    "indigo ivory jade jolly keen lively lucky lunar magenta mellow merry mighty misty "
    "nimble noble olive onyx pearl plucky polished proud quick quiet rapid rosy ruby rustic "
    "sage sandy scarlet serene sharp silent silver sleek snowy solar spry steady stellar "
    "sunny swift teal tidy tranquil true urban valiant vivid warm wild wise witty zesty"
).split()
_NOUNS = (
    "albatross alpaca antelope badger beaver bison bobcat buffalo camel caracal cheetah "
    "cobra condor cougar coyote crane dingo dolphin eagle egret falcon ferret finch fox "
    "gazelle gecko gibbon heron hippo husky ibis iguana jackal jaguar kestrel kingfisher "
    "koala lemur leopard lion llama lynx macaw mallard marmot marten meerkat mongoose moose "
    "narwhal newt ocelot oriole otter owl panda panther parrot pelican penguin puffin puma "
    "quail rabbit raven robin salmon seal shark sparrow stork swan tapir tiger toucan "
    "turtle viper walrus weasel whale wolf wombat wren yak zebra"
).split()


def generate_run_name() -> str:
    """A random ``adjective-animal`` name; not unique, for people to recognise runs."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}"
