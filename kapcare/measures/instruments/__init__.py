"""The instrument library: every instrument Kapcare can score, by stable code."""

from kapcare.measures.instruments.base import Band, Instrument, Item, Option
from kapcare.measures.instruments.cadss import CADSS
from kapcare.measures.instruments.cssrs_screener import CSSRS_SCREENER
from kapcare.measures.instruments.gad7 import GAD7
from kapcare.measures.instruments.madrs import MADRS
from kapcare.measures.instruments.msm import MSM
from kapcare.measures.instruments.pcl5 import PCL5
from kapcare.measures.instruments.phq9 import PHQ9
from kapcare.measures.instruments.qids_sr16 import QIDS_SR16

INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument
    for instrument in (PHQ9, GAD7, PCL5, CSSRS_SCREENER, QIDS_SR16, MADRS, CADSS, MSM)
}

__all__ = ["INSTRUMENTS", "Band", "Instrument", "Item", "Option"]
